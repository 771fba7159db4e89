/// One request's tokens, split into billing classes so that each token is counted once.
///
/// Build it with a provider normaliser (``OpenAIChatCompletionUsage/normalized()``,
/// ``AnthropicUsage/normalized()``, ``GeminiUsageMetadata/normalized()``…), which undo
/// each provider's own way of nesting one count inside another.
public struct TokenUsage: Sendable, Hashable, Codable {
    public var uncachedInput: Int
    public var cacheRead: Int
    public var cacheWrite5m: Int
    public var cacheWrite1h: Int
    public var output: Int
    public var reasoning: Int

    public init(uncachedInput: Int = 0, cacheRead: Int = 0, cacheWrite5m: Int = 0, cacheWrite1h: Int = 0,
                output: Int = 0, reasoning: Int = 0) {
        self.uncachedInput = uncachedInput
        self.cacheRead = cacheRead
        self.cacheWrite5m = cacheWrite5m
        self.cacheWrite1h = cacheWrite1h
        self.output = output
        self.reasoning = reasoning
    }

    public static let zero = TokenUsage()

    /// The count in one class.
    public subscript(tokenClass: TokenClass) -> Int {
        switch tokenClass {
        case .uncachedInput: uncachedInput
        case .cacheRead: cacheRead
        case .cacheWrite5m: cacheWrite5m
        case .cacheWrite1h: cacheWrite1h
        case .output: output
        case .reasoning: reasoning
        }
    }

    /// Every prompt token, cached or not: what long-context thresholds are measured on.
    public var promptTokens: Int { uncachedInput + cacheRead + cacheWrite5m + cacheWrite1h }

    /// Every generated token, visible or reasoning.
    public var completionTokens: Int { output + reasoning }

    /// All tokens, each once.
    public var totalTokens: Int { promptTokens + completionTokens }

    /// True when a count is negative (only possible for a hand-built value).
    var hasNegativeCount: Bool { TokenClass.allCases.contains { self[$0] < 0 } }

    enum CodingKeys: String, CodingKey {
        case uncachedInput = "input"
        case cacheRead = "cached_input"
        case cacheWrite5m = "cache_write_5m"
        case cacheWrite1h = "cache_write_1h"
        case output
        case reasoning
    }
}
