/// Google Cloud billing from a CSV of the Cloud Billing **standard usage cost** export to
/// BigQuery (a query over `gcp_billing_export_v1_*` saved as CSV). Columns are read by
/// their export names, dotted (`service.description`) or flattened (`service_description`):
/// `service.description`, `sku.description`, `usage_start_time`, `cost`, `currency`, and
/// optionally `credits` (the repeated record as JSON, `[{"name":…,"amount":-1.5}]`, or a
/// plain sum). Only Vertex AI and Gemini API rows are kept; the billed amount is
/// `cost` plus its credits, on the UTC day of `usage_start_time`.
public enum GCPBillingCSV {
    static let what = "GCP billing export"
    /// `service.description` values that are LLM spend.
    public static let services: Set<String> = ["vertex ai", "gemini api", "generative language api"]

    public static func parse(_ bytes: [UInt8], attribution: ModelAttribution = .bundled) throws(BillingError) -> [BilledLine] {
        let table = try CSVTable(bytes, what: what)
        let service = try table.require(["service.description", "service_description"], what: what)
        let sku = try table.require(["sku.description", "sku_description"], what: what)
        let start = try table.require(["usage_start_time"], what: what)
        let cost = try table.require(["cost"], what: what)
        let currency = table.index(["currency"])
        let credits = table.index(["credits", "credits_amount", "credits.amount"])
        var lines: [BilledLine] = []
        for record in table.records {
            try table.check(record, what: what)
            func fail(_ column: String, _ reason: String) -> BillingError {
                BillingError(.invalidFile, "\(what): line \(record.line), column \(column): \(reason)")
            }
            let serviceName = record.fields[service].trimmingSpaces
            guard services.contains(serviceName.lowercased()) else { continue }
            let startText = record.fields[start].trimmingSpaces
            guard let day = BillingDay.parse(startText) else {
                throw fail("usage_start_time", "\"\(GenericBillingCSV.preview(startText))\" is not a timestamp like 2026-03-01 00:00:00 UTC")
            }
            if let currency {
                let code = record.fields[currency].trimmingSpaces.uppercased()
                guard code.isEmpty || code == "USD" else {
                    throw fail("currency", "\(code) is not supported; export the billing account's USD amounts")
                }
            }
            let costText = record.fields[cost].trimmingSpaces
            guard DecimalText.plain(costText) != nil else {
                throw fail("cost", "\"\(GenericBillingCSV.preview(costText))\" is not a number")
            }
            var amounts = [costText]
            if let credits {
                let text = record.fields[credits].trimmingSpaces
                do { amounts += try creditAmounts(text) } catch { throw fail("credits", error.message) }
            }
            let skuText = record.fields[sku].trimmingSpaces
            lines.append(BilledLine(provider: "gemini", day: day, model: attribution.mentionedModel(provider: "gemini", text: skuText),
                                    lineItem: skuText.isEmpty ? serviceName : skuText, amountUSD: DecimalText.sum(amounts), currency: "USD"))
        }
        return lines.mergedByKey()
    }

    /// The amounts of a `credits` cell: empty, a number, or the JSON array of credit records.
    static func creditAmounts(_ text: String) throws(BillingError) -> [String] {
        if text.isEmpty || text == "[]" { return [] }
        if let plain = DecimalText.plain(text) { return [plain] }
        guard let items = (try? BillingJSON.parse(Array(text.utf8)))?.arrayValue else {
            throw BillingError(.invalidFile, "expected a number or a JSON array of {\"name\",\"amount\"}")
        }
        var amounts: [String] = []
        for item in items {
            guard let amount = item["amount"]?.numberText, DecimalText.plain(amount) != nil else {
                throw BillingError(.invalidFile, "a credit has no numeric amount")
            }
            amounts.append(amount)
        }
        return amounts
    }
}
