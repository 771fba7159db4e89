import LLMLabCore
import LLMLabProto

/// Input rules for price overrides: a day that has not passed, and exact non-negative
/// decimal prices, at least one. Errors name the field (`effective_from`, `prices.output`).
enum PriceOverrideValidation {
    /// Prices are USD per one million tokens; anything at or above this is a typo.
    static let ceilingText = "1000000"

    /// The model as pricing compares it (lowercase, without Gemini's `models/` prefix), so
    /// "GPT-4o" and "gpt-4o" are one override, not two that compete.
    static func model(_ value: String, field: String = "model") throws -> String {
        var model = try ModelNameValidation.model(value, field: field).lowercased()
        if model.hasPrefix("models/") { model.removeFirst("models/".count) }
        guard !model.isEmpty else {
            throw ValidationError(field: field, reason: "names no model after \"models/\"; use the model id, e.g. \"gemini-2.5-pro\"")
        }
        return model
    }

    /// A `YYYY-MM-DD` day no earlier than `today` (UTC): overrides never apply retroactively.
    static func effectiveFrom(_ text: String, today: PriceDate) throws -> PriceDate {
        let field = "effective_from"
        guard !text.isEmpty else {
            throw ValidationError(field: field, reason: "is required: the first UTC day the prices apply, YYYY-MM-DD, today (\(today)) or later")
        }
        guard let day = PriceDate.parse(text) else {
            throw ValidationError(field: field, reason: "\"\(ModelNameValidation.preview(text))\" is not a date; use YYYY-MM-DD, e.g. \"\(today)\"")
        }
        guard day >= today else {
            throw ValidationError(field: field, reason: "\(day) is in the past; prices never change retroactively: use today (\(today)) or a later day")
        }
        return day
    }

    /// The prices given, as a patch over the catalog: empty strings are "not overridden".
    static func prices(_ wire: Llmlab_V1_TokenPrices) throws -> PriceSheet {
        let ceiling = try TokenPrice.parse(ceilingText, field: "prices")
        func price(_ text: String, _ key: String) throws -> TokenPrice? {
            if text.isEmpty { return nil }
            let field = "prices.\(key)"
            let price = try TokenPrice.parse(text, field: field)
            guard price < ceiling else {
                throw ValidationError(field: field, reason: "must be less than \(ceilingText) USD per million tokens")
            }
            return price
        }
        let sheet = PriceSheet(
            input: try price(wire.input, "input"), cachedInput: try price(wire.cachedInput, "cached_input"),
            cacheWrite5m: try price(wire.cacheWrite5M, "cache_write_5m"), cacheWrite1h: try price(wire.cacheWrite1H, "cache_write_1h"),
            output: try price(wire.output, "output"), reasoning: try price(wire.reasoning, "reasoning"))
        guard !entries(sheet).isEmpty else {
            throw ValidationError(field: "prices", reason: "needs at least one price (USD per million tokens): input, cached_input, cache_write_5m, cache_write_1h, output or reasoning")
        }
        return sheet
    }

    /// The prices that are set, by their wire name, in wire order.
    static func entries(_ sheet: PriceSheet) -> [(key: String, price: TokenPrice)] {
        let all: [(String, TokenPrice?)] = [
            ("input", sheet.input), ("cached_input", sheet.cachedInput), ("cache_write_5m", sheet.cacheWrite5m),
            ("cache_write_1h", sheet.cacheWrite1h), ("output", sheet.output), ("reasoning", sheet.reasoning),
        ]
        return all.compactMap { key, price in price.map { (key, $0) } }
    }
}
