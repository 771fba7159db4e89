public import LLMLabCore

/// Maps what a bill calls a model onto the price catalog's model ids, so billed lines meet
/// tracked usage (which the catalog prices) on the same name. Anything it cannot place is
/// left unattributed ("") rather than guessed.
public struct ModelAttribution: Sendable {
    let catalog: PriceCatalog
    /// Per provider: every catalog id and alias in a separator-normalised form → model id,
    /// longest first so "gpt-4o-mini" wins over "gpt-4o".
    let names: [Provider: [(String, String)]]

    public static let bundled = ModelAttribution(catalog: .bundled)

    public init(catalog: PriceCatalog) {
        self.catalog = catalog
        var names: [Provider: [String: String]] = [:]
        for entry in catalog.entries {
            for name in [entry.model] + entry.aliases {
                names[entry.provider, default: [:]][Self.tokens(name)] = entry.model
            }
        }
        self.names = names.mapValues { $0.sorted { $0.key.count > $1.key.count }.map { ($0.key, $0.value) } }
    }

    /// The catalog id of an exact model name the provider reported ("gpt-4o-2024-08-06",
    /// "claude-sonnet-4-20250514"), or "" when unknown.
    public func model(provider: String, name: String) -> String {
        guard let provider = Provider(rawValue: provider), !name.isEmpty else { return "" }
        return catalog.modelID(provider: provider, name: name) ?? ""
    }

    /// An OpenAI costs line item ("gpt-4o-2024-08-06, input", "o1, cached input"): the model
    /// named before the first comma, or "".
    public func openAILineItem(_ lineItem: String) -> String {
        let head = lineItem.split(separator: ",", maxSplits: 1).first.map(String.init) ?? ""
        return model(provider: "openai", name: head.trimmingSpaces)
    }

    /// Free text that mentions a model among other words: an Azure meter
    /// ("gpt-4o-mini-0718-Inp-glbl 1M Tokens") or a Google SKU ("Gemini 2.5 Flash Input
    /// Text"). The longest catalog name found between word boundaries wins; "" when none.
    public func mentionedModel(provider: String, text: String) -> String {
        guard let provider = Provider(rawValue: provider), let candidates = names[provider] else { return "" }
        let haystack = "-" + Self.tokens(text) + "-"
        for (name, model) in candidates where haystack.contains("-" + name + "-") {
            return model
        }
        return ""
    }

    /// Lowercased, with runs of spaces, underscores and slashes turned into single dashes.
    static func tokens(_ text: String) -> String {
        var result = ""
        var pendingDash = false
        for character in text.lowercased() {
            if character == " " || character == "_" || character == "/" || character == "-" || character == "\t" {
                pendingDash = !result.isEmpty
                continue
            }
            if pendingDash { result.append("-"); pendingDash = false }
            result.append(character)
        }
        return result
    }
}
