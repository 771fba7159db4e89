import LLMLabCore

/// The models `/v1/models` lists for a provider the project holds a key for. A stopgap:
/// the next step lists what the shipped price catalog knows, and routes' aliases.
enum KnownModels {
    static let openAI: [String] = [
        "gpt-5", "gpt-5-mini", "gpt-5-nano",
        "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano",
        "gpt-4o", "gpt-4o-mini",
        "o3", "o3-mini", "o4-mini", "o1",
    ]

    static func models(for provider: Provider) -> [String] {
        switch provider {
        case .openai: openAI
        case .azureOpenAI, .anthropic, .gemini: []  // adapters come with the next step
        }
    }
}
