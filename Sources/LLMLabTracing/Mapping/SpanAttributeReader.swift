/// Reads a span's attributes by the first of several names, because every convention
/// (OpenTelemetry GenAI old and new, OpenInference, Pydantic AI, our SDK) spells the same
/// fact differently.
struct SpanAttributeReader {
    let attributes: [String: AttributeValue]

    /// The first non-empty string among `keys` (a string array yields its first element).
    func string(_ keys: String...) -> String? { string(keys) }

    func string(_ keys: [String]) -> String? {
        for key in keys {
            switch attributes[key] {
            case .string(let text)? where !text.isEmpty: return text
            case .array(let items)?:
                if let first = items.lazy.compactMap(\.stringValue).first(where: { !$0.isEmpty }) { return first }
            case .int(let number)?: return String(number)
            default: continue
            }
        }
        return nil
    }

    /// The first integer among `keys`, with the key it came from.
    func int(_ keys: [String]) -> (key: String, value: Int)? {
        for key in keys {
            if let value = attributes[key]?.intValue { return (key, Int(value)) }
        }
        return nil
    }

    /// Every string of an attribute that is a string or an array of strings.
    func strings(_ key: String) -> [String] {
        switch attributes[key] {
        case .string(let text)?: [text]
        case .array(let items)?: items.compactMap(\.stringValue)
        default: []
        }
    }

    func contains(_ key: String) -> Bool { attributes[key] != nil }
}
