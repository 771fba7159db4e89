/// The LLM providers LLMLab holds keys for and routes to. Raw values are the stored and
/// documented spellings.
public enum Provider: String, Sendable, Hashable, CaseIterable, Codable {
    case openai
    case azureOpenAI = "azure_openai"
    case anthropic
    case gemini
}
