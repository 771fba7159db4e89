import LLMLabCore

/// The models `/v1/models` lists for a provider the project holds a key for: the canonical
/// ids the shipped price catalog knows for it, sorted.
enum KnownModels {
    static func models(for provider: Provider, catalog: PriceCatalog = .bundled) -> [String] {
        Array(Set(catalog.entries.filter { $0.provider == provider }.map(\.model))).sorted()
    }
}
