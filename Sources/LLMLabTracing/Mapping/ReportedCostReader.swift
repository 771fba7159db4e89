/// A cost the span carried itself — OpenInference `llm.cost.total`, OpenLIT's
/// `gen_ai.usage.cost`, Pydantic AI's `operation.cost` (from genai-prices) — kept beside
/// ours as plain decimal text so the two can be compared. Never used as our cost.
enum ReportedCostReader {
    static let keys = ["llm.cost.total", "gen_ai.usage.cost", "operation.cost", "gen_ai.usage.total_cost"]

    static func reportedCost(_ reader: SpanAttributeReader) -> String? {
        for key in keys {
            switch reader.attributes[key] {
            case .double(let value)?: if let text = DecimalText.plain(value) { return text }
            case .int(let value)? where value >= 0: return String(value)
            case .string(let text)?:
                if let value = Double(text), let plain = DecimalText.plain(value) {
                    return isPlainDecimal(text) ? text : plain
                }
            default: continue
            }
        }
        return nil
    }

    private static func isPlainDecimal(_ text: String) -> Bool {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        return !text.isEmpty && parts.count <= 2 && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isASCIIDigit) }
    }
}

/// Decimal text without an exponent for a double, from its shortest round-trip digits
/// (`1.5e-07` → `0.00000015`), so a PostgreSQL NUMERIC column and our exact decimal parser
/// accept it. Nil for negative, NaN or infinite values.
enum DecimalText {
    static func plain(_ value: Double) -> String? {
        guard value.isFinite, value >= 0 else { return nil }
        let text = "\(value)"
        let parts = text.lowercased().split(separator: "e", maxSplits: 1)
        var mantissa = String(parts[0])
        let exponent = parts.count == 2 ? Int(parts[1]) ?? 0 : 0
        var digits = mantissa.replacingDot()
        var pointIndex = mantissa.firstIndex(of: ".").map { mantissa.distance(from: mantissa.startIndex, to: $0) } ?? mantissa.count
        pointIndex += exponent
        if pointIndex <= 0 {
            digits = String(repeating: "0", count: -pointIndex + 1) + digits
            pointIndex = 1
        } else if pointIndex > digits.count {
            digits += String(repeating: "0", count: pointIndex - digits.count)
        }
        let whole = digits.prefix(pointIndex)
        var fraction = Substring(digits.dropFirst(pointIndex))
        while fraction.last == "0" { fraction = fraction.dropLast() }
        var wholeText = String(whole.drop { $0 == "0" })
        if wholeText.isEmpty { wholeText = "0" }
        mantissa = fraction.isEmpty ? wholeText : "\(wholeText).\(fraction)"
        return mantissa
    }
}

private extension String {
    func replacingDot() -> String { filter { $0 != "." } }
}

private extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
