internal import Foundation

/// The JSON layout of a price catalog file (`Pricing/catalog.json`), decoded strictly —
/// unknown keys are errors — and then checked into ``PriceEntry`` values.
///
/// Prices are JSON strings ("2.50"), never JSON numbers, so no binary floating point ever
/// holds them. Layout:
///
/// ```json
/// { "catalog_version": "2026-11-29", "checked_on": "2026-11-29",
///   "entries": [ { "provider": "anthropic", "model": "claude-sonnet-4-5",
///                  "aliases": ["claude-sonnet-4-5-20250929"], "effective_from": "2025-09-29",
///                  "source": "https://…", "note": "…",
///                  "prices": { "input": "3", "cached_input": "0.30", "cache_write_5m": "3.75",
///                              "cache_write_1h": "6", "output": "15" },
///                  "batch": { "discount_percent": "50" },
///                  "long_context": { "threshold_prompt_tokens": 200000, "prices": { … },
///                                    "batch": { "prices": { … } } } } ] }
/// ```
struct PriceCatalogFile: Decodable {
    var catalogVersion: String?
    var checkedOn: String?
    var entries: [Entry]?

    struct Entry: Decodable {
        var provider: String?
        var model: String?
        var aliases: [String]?
        var effectiveFrom: String?
        var source: String?
        var note: String?
        var prices: [String: String]?
        var batch: Batch?
        var longContext: LongContext?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case provider, model, aliases, source, note, prices, batch
            case effectiveFrom = "effective_from"
            case longContext = "long_context"
        }

        init(from decoder: any Decoder) throws {
            let container = try strictContainer(decoder, keyedBy: CodingKeys.self)
            provider = try container.decodeIfPresent(String.self, forKey: .provider)
            model = try container.decodeIfPresent(String.self, forKey: .model)
            aliases = try container.decodeIfPresent([String].self, forKey: .aliases)
            effectiveFrom = try container.decodeIfPresent(String.self, forKey: .effectiveFrom)
            source = try container.decodeIfPresent(String.self, forKey: .source)
            note = try container.decodeIfPresent(String.self, forKey: .note)
            prices = try container.decodeIfPresent([String: String].self, forKey: .prices)
            batch = try container.decodeIfPresent(Batch.self, forKey: .batch)
            longContext = try container.decodeIfPresent(LongContext.self, forKey: .longContext)
        }
    }

    struct Batch: Decodable {
        var discountPercent: String?
        var prices: [String: String]?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case prices
            case discountPercent = "discount_percent"
        }

        init(from decoder: any Decoder) throws {
            let container = try strictContainer(decoder, keyedBy: CodingKeys.self)
            discountPercent = try container.decodeIfPresent(String.self, forKey: .discountPercent)
            prices = try container.decodeIfPresent([String: String].self, forKey: .prices)
        }
    }

    struct LongContext: Decodable {
        var thresholdPromptTokens: Int?
        var prices: [String: String]?
        var batch: Batch?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case prices, batch
            case thresholdPromptTokens = "threshold_prompt_tokens"
        }

        init(from decoder: any Decoder) throws {
            let container = try strictContainer(decoder, keyedBy: CodingKeys.self)
            thresholdPromptTokens = try container.decodeIfPresent(Int.self, forKey: .thresholdPromptTokens)
            prices = try container.decodeIfPresent([String: String].self, forKey: .prices)
            batch = try container.decodeIfPresent(Batch.self, forKey: .batch)
        }
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case entries
        case catalogVersion = "catalog_version"
        case checkedOn = "checked_on"
    }

    init(from decoder: any Decoder) throws {
        let container = try strictContainer(decoder, keyedBy: CodingKeys.self)
        catalogVersion = try container.decodeIfPresent(String.self, forKey: .catalogVersion)
        checkedOn = try container.decodeIfPresent(String.self, forKey: .checkedOn)
        entries = try container.decodeIfPresent([Entry].self, forKey: .entries)
    }

    /// Decodes `json`, turning decoding failures into a readable problem with its path.
    static func decode(_ json: Data) throws(PriceCatalogError) -> PriceCatalogFile {
        do {
            return try JSONDecoder().decode(PriceCatalogFile.self, from: json)
        } catch let error as DecodingError {
            throw PriceCatalogError(problems: [describe(error)])
        } catch {
            throw PriceCatalogError(problems: ["not a JSON price catalog: \(error)"])
        }
    }

    /// Checks every field and builds the entries, collecting all problems.
    func validatedEntries() throws(PriceCatalogError) -> (version: String, entries: [PriceEntry]) {
        var problems: [String] = []
        let version = catalogVersion ?? ""
        if version.isEmpty { problems.append("catalog_version: is required, e.g. \"2026-11-29\"") }
        if let checkedOn, PriceDate.parse(checkedOn) == nil {
            problems.append("checked_on: \"\(Validate.preview(checkedOn))\" is not a YYYY-MM-DD date")
        }
        guard let rawEntries = entries, !rawEntries.isEmpty else {
            throw PriceCatalogError(problems: problems + ["entries: is required and must list at least one price"])
        }
        var built: [PriceEntry] = []
        for (index, raw) in rawEntries.enumerated() {
            var label = "entries[\(index)]"
            if let provider = raw.provider, let model = raw.model, let date = raw.effectiveFrom {
                label += " (\(provider)/\(model)@\(date))"
            }
            if let entry = raw.build(label: label, problems: &problems) { built.append(entry) }
        }
        guard problems.isEmpty else { throw PriceCatalogError(problems: problems) }
        return (version, built)
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ codingPath: [any CodingKey]) -> String {
            var text = ""
            for key in codingPath {
                if let index = key.intValue { text += "[\(index)]" } else { text += (text.isEmpty ? "" : ".") + key.stringValue }
            }
            return text.isEmpty ? "catalog" : text
        }
        switch error {
        case .typeMismatch(let type, let context):
            let hint = type == String.self ? " (prices, dates and percentages are JSON strings, e.g. \"2.50\")" : ""
            return "\(path(context.codingPath)): expected \(type)\(hint)"
        case .valueNotFound(let type, let context):
            return "\(path(context.codingPath)): expected \(type), found null"
        case .keyNotFound(let key, let context):
            return "\(path(context.codingPath + [key])): is required"
        case .dataCorrupted(let context):
            return "\(path(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}

extension PriceCatalogFile.Entry {
    func build(label: String, problems: inout [String]) -> PriceEntry? {
        let before = problems.count
        func problem(_ field: String, _ reason: String) { problems.append("\(label).\(field): \(reason)") }

        let provider: Provider? = provider.flatMap(Provider.init(rawValue:))
        if provider == nil {
            let known = Provider.allCases.map(\.rawValue).joined(separator: ", ")
            if let raw = self.provider {
                problem("provider", "\"\(Validate.preview(raw))\" is not a provider; use one of \(known)")
            } else {
                problem("provider", "is required; use one of \(known)")
            }
        }
        let model = model ?? ""
        if model.isEmpty { problem("model", "is required, e.g. \"gpt-4o\"") }
        for (index, alias) in (aliases ?? []).enumerated() where alias.isEmpty {
            problem("aliases[\(index)]", "must not be empty")
        }
        let effectiveFrom = effectiveFrom.flatMap(PriceDate.parse)
        if effectiveFrom == nil {
            if let raw = self.effectiveFrom {
                problem("effective_from", "\"\(Validate.preview(raw))\" is not a YYYY-MM-DD date")
            } else {
                problem("effective_from", "is required, as YYYY-MM-DD")
            }
        }
        let source = source ?? ""
        if source.isEmpty { problem("source", "is required: the provider's pricing page URL") }
        let prices = sheet(self.prices, field: "prices", label: label, problems: &problems)
        let batch = batch.flatMap { $0.build(field: "batch", label: label, problems: &problems) }
        var longContext: LongContextTier?
        if let raw = self.longContext {
            let threshold = raw.thresholdPromptTokens ?? 0
            if threshold <= 0 { problem("long_context.threshold_prompt_tokens", "is required and must be a positive token count, e.g. 200000") }
            let tierPrices = sheet(raw.prices, field: "long_context.prices", label: label, problems: &problems)
            let tierBatch = raw.batch.flatMap { $0.build(field: "long_context.batch", label: label, problems: &problems) }
            if let tierPrices { longContext = LongContextTier(thresholdPromptTokens: threshold, prices: tierPrices, batch: tierBatch) }
        }
        guard problems.count == before, let provider, let effectiveFrom, let prices else { return nil }
        return PriceEntry(provider: provider, model: model, aliases: aliases ?? [], effectiveFrom: effectiveFrom, source: source,
                          note: note, prices: prices, batch: batch, longContext: longContext)
    }
}

extension PriceCatalogFile.Batch {
    func build(field: String, label: String, problems: inout [String]) -> BatchPricing? {
        switch (discountPercent, prices) {
        case (let percent?, nil):
            do {
                return .discount(try DiscountPercent.parse(percent, field: "\(label).\(field).discount_percent"))
            } catch {
                problems.append("\(error)")
                return nil
            }
        case (nil, let prices?):
            return sheet(prices, field: "\(field).prices", label: label, problems: &problems).map(BatchPricing.prices)
        default:
            problems.append("\(label).\(field): give exactly one of discount_percent or prices")
            return nil
        }
    }
}

/// Parses a price object, requiring at least the input price.
private func sheet(_ prices: [String: String]?, field: String, label: String, problems: inout [String]) -> PriceSheet? {
    guard let prices, !prices.isEmpty else {
        problems.append("\(label).\(field): is required and must give at least an input price")
        return nil
    }
    var valid = true
    var result = PriceSheet()
    for (key, text) in prices.sorted(by: { $0.key < $1.key }) {
        do {
            result = result.patched(with: try PriceSheet.parse([key: text], fieldPrefix: "\(label).\(field)"))
        } catch {
            problems.append("\(error)")
            valid = false
        }
    }
    if result.input == nil, valid {
        problems.append("\(label).\(field).input: is required (USD per 1M input tokens)")
        valid = false
    }
    return valid ? result : nil
}

/// A keyed container that refuses keys the type does not know, so a misspelt field
/// ("cached_inptu") fails loudly instead of dropping a price.
private func strictContainer<Key: CodingKey & CaseIterable>(
    _ decoder: any Decoder, keyedBy _: Key.Type
) throws -> KeyedDecodingContainer<Key> {
    let known = Set(Key.allCases.map(\.stringValue))
    let all = try decoder.container(keyedBy: AnyCodingKey.self)
    let unknown = all.allKeys.map(\.stringValue).filter { !known.contains($0) }.sorted()
    if !unknown.isEmpty {
        throw DecodingError.dataCorrupted(.init(
            codingPath: decoder.codingPath,
            debugDescription: "unknown key\(unknown.count == 1 ? "" : "s") \(unknown.map { "\"\($0)\"" }.joined(separator: ", ")); known keys are \(known.sorted().joined(separator: ", "))"))
    }
    return try decoder.container(keyedBy: Key.self)
}

private struct AnyCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { self.stringValue = String(intValue); self.intValue = intValue }
}
