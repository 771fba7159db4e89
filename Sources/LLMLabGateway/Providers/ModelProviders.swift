import LLMLabCore
import LLMLabStore

/// Which of a project's provider keys serves a model name, for a call whose model is not
/// a route alias: the first provider the project allows (in its allowed order, else
/// OpenAI, Azure OpenAI, Anthropic, Gemini) that serves the model.
///
/// A provider serves a model the shipped price catalog lists for it, or whose name has the
/// provider's family prefix (`gpt-`, `o3`, `claude-`, `gemini-`…), so a model newer than
/// the catalog still reaches its provider (its usage is then stored unpriced). An Azure
/// OpenAI key serves exactly the deployment it was stored with. `provider/model` (e.g.
/// `anthropic/claude-sonnet-4-5`) names the provider explicitly. A name no provider
/// claims goes to the first allowed provider the project holds a key for (not Azure, whose
/// keys are bound to a deployment): the call still succeeds and is stored unpriced. A name
/// another provider claims is not sent elsewhere when the project lacks that provider.
enum ModelProviders {
    static let familyPrefixes: [Provider: [String]] = [
        .openai: ["gpt-", "chatgpt-", "o1", "o3", "o4", "text-embedding-", "omni-moderation", "codex-", "ft:gpt-", "ft:o"],
        .anthropic: ["claude-"],
        .gemini: ["gemini-", "models/gemini-", "gemma-", "text-embedding-004", "models/text-embedding-", "embedding-"],
    ]

    /// Whether `provider` serves `model` (not for Azure, whose keys name their deployment).
    static func serves(_ provider: Provider, model: String, catalog: PriceCatalog = .bundled) -> Bool {
        if catalog.modelID(provider: provider, name: model) != nil { return true }
        let name = model.lowercased()
        return familyPrefixes[provider, default: []].contains { name.hasPrefix($0) }
    }

    /// The key to call `model` with, and the provider model (the Azure deployment for Azure).
    static func choose(model: String, keys: [ProviderKeyRecord], allowed: [Provider]) -> (ProviderKeyRecord, String)? {
        var order = allowed.isEmpty ? Provider.allCases : allowed
        if let slash = model.firstIndex(of: "/"), let named = Provider(rawValue: String(model[..<slash])) {
            // `provider/model`: only that provider, with the rest as its model name.
            guard order.contains(named) else { return nil }
            let rest = String(model[model.index(after: slash)...])
            guard !rest.isEmpty else { return nil }
            let candidates = keys.filter { $0.provider == named }
            if named == .azureOpenAI {
                return candidates.first { $0.azureDeployment.lowercased() == rest.lowercased() }.map { ($0, $0.azureDeployment) }
            }
            return (candidates.first { $0.name == "default" } ?? candidates.first).map { ($0, rest) }
        }
        if let claimed = claim(model: model, keys: keys, order: order) { return claimed }
        // A model some provider claims (e.g. `gemini-…` on a project without a Gemini key)
        // is not sent to another provider: that would only fail there.
        if Provider.allCases.contains(where: { $0 != .azureOpenAI && serves($0, model: model) }) { return nil }
        order.removeAll { $0 == .azureOpenAI }
        for provider in order {
            let candidates = keys.filter { $0.provider == provider }
            if let key = candidates.first(where: { $0.name == "default" }) ?? candidates.first { return (key, model) }
        }
        return nil
    }

    /// The first provider in `order` that serves `model` by catalog or family name.
    private static func claim(model: String, keys: [ProviderKeyRecord], order: [Provider]) -> (ProviderKeyRecord, String)? {
        for provider in order {
            let candidates = keys.filter { $0.provider == provider }
            guard !candidates.isEmpty else { continue }
            switch provider {
            case .azureOpenAI:
                let wanted = model.lowercased()
                if let key = candidates.first(where: { !$0.azureDeployment.isEmpty && $0.azureDeployment.lowercased() == wanted }) {
                    return (key, key.azureDeployment)
                }
            case .openai, .anthropic, .gemini:
                guard serves(provider, model: model) else { continue }
                let key = candidates.first { $0.name == "default" } ?? candidates[0]
                return (key, model)
            }
        }
        return nil
    }
}
