/// The documented generic import: one billed amount per row.
///
/// ```
/// date,provider,model,cost_usd,line_item
/// 2026-03-01,openai,gpt-4o,12.50,"gpt-4o, input"
/// ```
/// The header is required (any column order; `line_item` optional). `date` is a UTC day
/// (YYYY-MM-DD); `provider` is `openai`, `anthropic`, `azure_openai` (or `azure`), `gemini`
/// (or `google`/`vertex`); `model` may be empty (unattributed); `cost_usd` is a plain
/// decimal in US dollars, negative for credits. Errors name the line and column.
public enum GenericBillingCSV {
    static let what = "CSV import"

    public static func parse(_ bytes: [UInt8], attribution: ModelAttribution = .bundled) throws(BillingError) -> [BilledLine] {
        let table = try CSVTable(bytes, what: what)
        let date = try table.require(["date"], what: what)
        let provider = try table.require(["provider"], what: what)
        let model = try table.require(["model"], what: what)
        let cost = try table.require(["cost_usd"], what: what)
        let item = table.index(["line_item"])
        var lines: [BilledLine] = []
        for record in table.records {
            try table.check(record, what: what)
            func fail(_ column: String, _ reason: String) -> BillingError {
                BillingError(.invalidFile, "\(what): line \(record.line), column \(column): \(reason)")
            }
            let dateText = record.fields[date].trimmingSpaces
            guard let day = BillingDay.parse(dateText), dateText.utf8.count == 10 else {
                throw fail("date", "\"\(preview(dateText))\" is not a YYYY-MM-DD date")
            }
            let providerText = record.fields[provider].trimmingSpaces.lowercased()
            guard let normalized = providerName(providerText) else {
                throw fail("provider", "\"\(preview(providerText))\" is not one of openai, anthropic, azure_openai, gemini")
            }
            let costText = record.fields[cost].trimmingSpaces
            guard isPlainDecimal(costText), let amount = DecimalText.canonical(costText) else {
                throw fail("cost_usd", "\"\(preview(costText))\" is not a decimal amount of US dollars (e.g. 12.50 or -0.75)")
            }
            let rawModel = record.fields[model].trimmingSpaces
            let canonical = attribution.model(provider: normalized, name: rawModel)
            let itemText = item.map { record.fields[$0].trimmingSpaces } ?? ""
            lines.append(BilledLine(provider: normalized, day: day, model: canonical.isEmpty ? rawModel.lowercased() : canonical,
                                    lineItem: itemText.isEmpty ? "(imported)" : itemText, amountUSD: amount, currency: "USD"))
        }
        return lines.mergedByKey()
    }

    static func providerName(_ text: String) -> String? {
        switch text {
        case "openai": "openai"
        case "anthropic": "anthropic"
        case "azure_openai", "azure", "azure-openai": "azure_openai"
        case "gemini", "google", "vertex", "vertex_ai", "gcp": "gemini"
        default: nil
        }
    }

    /// Digits with an optional leading minus and one decimal point; no exponent or separators.
    static func isPlainDecimal(_ text: String) -> Bool {
        var body = Substring(text)
        if body.first == "-" { body = body.dropFirst() }
        let parts = body.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        return !body.isEmpty && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isASCIIDigitCharacter) }
    }

    static func preview(_ text: String) -> String { text.count > 40 ? String(text.prefix(40)) + "…" : text }
}
