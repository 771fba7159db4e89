/// The ways a provider bills a token. Every provider's usage report is normalised into
/// these classes before pricing, each token in exactly one class.
///
/// Raw values are the catalog's price keys and the stored spellings.
public enum TokenClass: String, Sendable, Hashable, CaseIterable, Codable, CustomStringConvertible {
    /// Prompt tokens read neither from nor into a cache.
    case uncachedInput = "input"
    /// Prompt tokens served from a prompt cache (OpenAI `cached_tokens`, Anthropic
    /// `cache_read_input_tokens`, Gemini `cachedContentTokenCount`).
    case cacheRead = "cached_input"
    /// Prompt tokens written to a 5-minute cache (Anthropic's default TTL).
    case cacheWrite5m = "cache_write_5m"
    /// Prompt tokens written to a 1-hour cache (Anthropic).
    case cacheWrite1h = "cache_write_1h"
    /// Generated tokens the caller sees, excluding reasoning the provider reports apart.
    case output
    /// Hidden reasoning ("thinking") tokens reported separately from the visible output;
    /// billed at the output price unless the catalog gives a reasoning price.
    case reasoning

    public var description: String { rawValue }

    /// Whether the tokens are part of the prompt (and so count towards a long-context
    /// threshold).
    public var isPrompt: Bool {
        switch self {
        case .uncachedInput, .cacheRead, .cacheWrite5m, .cacheWrite1h: true
        case .output, .reasoning: false
        }
    }
}
