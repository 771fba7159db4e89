public import Foundation

/// Every list price LLMLab knows, with its history: the data file `Pricing/catalog.json`
/// compiled into the binary (``bundled``), validated when loaded.
///
/// Answers two questions: which catalog model a provider-reported name means
/// (``modelID(provider:name:)``), and which price version was in force at a moment
/// (``entry(provider:model:at:)``). Tenant overrides are layered on top by
/// ``CostCalculator``, not stored here.
public struct PriceCatalog: Sendable {
    /// The data file's `catalog_version`, recorded with costs so a price can be traced.
    public let version: String
    /// All entries, in file order.
    public let entries: [PriceEntry]

    /// Normalised name → canonical model id, per provider.
    private let names: [Provider: [String: String]]
    /// Versions of each model, oldest first.
    private let history: [Provider: [String: [PriceEntry]]]

    /// Checks the entries as a whole and indexes them. Refuses: duplicate
    /// (provider, model, effective date); a name (id or alias) claimed by two models of one
    /// provider; an empty model id or source; a non-positive long-context threshold; a
    /// price sheet without an input price; explicit batch prices without long-context batch
    /// prices for a model that has a long-context tier.
    public init(version: String, entries: [PriceEntry]) throws(PriceCatalogError) {
        var problems: [String] = []
        if version.isEmpty { problems.append("catalog_version: is required") }
        if entries.isEmpty { problems.append("entries: must list at least one price") }
        var names: [Provider: [String: String]] = [:]
        var history: [Provider: [String: [PriceEntry]]] = [:]
        var seen: Set<String> = []
        for (index, entry) in entries.enumerated() {
            let label = "entries[\(index)] (\(entry.label))"
            let model = ModelName.normalized(entry.model)
            if model.isEmpty { problems.append("\(label).model: is required") }
            if entry.source.isEmpty { problems.append("\(label).source: is required: the provider's pricing page URL") }
            if entry.prices.input == nil { problems.append("\(label).prices.input: is required") }
            if let tier = entry.longContext {
                if tier.thresholdPromptTokens <= 0 { problems.append("\(label).long_context.threshold_prompt_tokens: must be positive") }
                if tier.prices.input == nil { problems.append("\(label).long_context.prices.input: is required") }
                if case .prices = entry.batch, tier.batch == nil {
                    problems.append("\(label).long_context.batch: is required when batch gives explicit prices (the tier's batch prices cannot be derived)")
                }
            }
            let key = "\(entry.provider.rawValue)/\(model)@\(entry.effectiveFrom)"
            if !seen.insert(key).inserted {
                problems.append("\(label): duplicate price for \(entry.provider.rawValue)/\(entry.model) effective \(entry.effectiveFrom)")
            }
            for name in entry.names.map(ModelName.normalized) where !name.isEmpty {
                if let owner = names[entry.provider]?[name], owner != model {
                    problems.append("\(label): name \"\(name)\" already belongs to \(entry.provider.rawValue)/\(owner)")
                } else {
                    names[entry.provider, default: [:]][name] = model
                }
            }
            history[entry.provider, default: [:]][model, default: []].append(entry)
        }
        guard problems.isEmpty else { throw PriceCatalogError(problems: problems) }
        self.version = version
        self.entries = entries
        self.names = names
        self.history = history.mapValues { $0.mapValues { $0.sorted { $0.effectiveFrom < $1.effectiveFrom } } }
    }

    /// Decodes and validates a catalog data file (the JSON layout of `Pricing/catalog.json`).
    public static func load(json: Data) throws(PriceCatalogError) -> PriceCatalog {
        let file = try PriceCatalogFile.decode(json)
        let (version, entries) = try file.validatedEntries()
        return try PriceCatalog(version: version, entries: entries)
    }

    /// The catalog compiled into this binary. Its validity is checked by the test suite; a
    /// broken data file stops the process at first use with the list of problems.
    public static let bundled: PriceCatalog = {
        do {
            return try load(json: Data(PackageResources.catalog_json))
        } catch {
            preconditionFailure("the bundled price catalog is invalid: \(error)")
        }
    }()

    /// The canonical model id a provider-reported name refers to: an exact id or alias
    /// match first, then the name without a snapshot suffix ("gpt-4o-2024-08-06" →
    /// "gpt-4o", "claude-sonnet-4-20250514" → "claude-sonnet-4"); nil when unknown.
    public func modelID(provider: Provider, name: String) -> String? {
        let normalized = ModelName.normalized(name)
        guard let known = names[provider] else { return nil }
        if let model = known[normalized] { return model }
        if let base = ModelName.withoutSnapshotSuffix(normalized) { return known[base] }
        return nil
    }

    /// Every price version of a model (any of its names), oldest first.
    public func history(provider: Provider, model name: String) -> [PriceEntry] {
        guard let model = modelID(provider: provider, name: name) else { return [] }
        return history[provider]?[model] ?? []
    }

    /// The price version in force at `time`: the latest whose effective day has started.
    /// Nil when the model is unknown or its first price starts after `time`.
    public func entry(provider: Provider, model name: String, at time: Date) -> PriceEntry? {
        history(provider: provider, model: name).last { $0.effectiveFrom.start <= time }
    }
}
