/// The `usage` object of an Anthropic Messages response, as on the wire.
///
/// Unlike OpenAI, Anthropic's input counts are disjoint: `input_tokens` EXCLUDES the
/// tokens read from (`cache_read_input_tokens`) and written to
/// (`cache_creation_input_tokens`) the prompt cache. The write total is split by TTL in
/// `cache_creation.ephemeral_5m_input_tokens` / `ephemeral_1h_input_tokens`; without that
/// breakdown every write is a 5-minute write, the API's default TTL. `output_tokens`
/// includes extended-thinking tokens (Anthropic does not report them apart), so they are
/// billed as output.
///
/// For a stream, the gateway builds this from `message_start` plus the final
/// `message_delta` counts before normalising.
public struct AnthropicUsage: Sendable, Hashable, Codable {
    public var inputTokens: Int
    public var outputTokens: Int
    public var cacheCreationInputTokens: Int?
    public var cacheReadInputTokens: Int?
    public var cacheCreation: CacheCreation?

    public init(inputTokens: Int, outputTokens: Int, cacheCreationInputTokens: Int? = nil,
                cacheReadInputTokens: Int? = nil, cacheCreation: CacheCreation? = nil) {
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.cacheCreationInputTokens = cacheCreationInputTokens
        self.cacheReadInputTokens = cacheReadInputTokens
        self.cacheCreation = cacheCreation
    }

    /// `cache_creation`: the cache writes split by time-to-live.
    public struct CacheCreation: Sendable, Hashable, Codable {
        public var ephemeral5mInputTokens: Int?
        public var ephemeral1hInputTokens: Int?

        public init(ephemeral5mInputTokens: Int? = nil, ephemeral1hInputTokens: Int? = nil) {
            self.ephemeral5mInputTokens = ephemeral5mInputTokens
            self.ephemeral1hInputTokens = ephemeral1hInputTokens
        }

        enum CodingKeys: String, CodingKey {
            case ephemeral5mInputTokens = "ephemeral_5m_input_tokens"
            case ephemeral1hInputTokens = "ephemeral_1h_input_tokens"
        }
    }

    enum CodingKeys: String, CodingKey {
        case inputTokens = "input_tokens"
        case outputTokens = "output_tokens"
        case cacheCreationInputTokens = "cache_creation_input_tokens"
        case cacheReadInputTokens = "cache_read_input_tokens"
        case cacheCreation = "cache_creation"
    }

    /// Billing classes: the three input counts map one to one (writes split by TTL).
    public func normalized() throws(UsageShapeError) -> TokenUsage {
        let input = try UsageShapeError.check(inputTokens, "input_tokens")
        let output = try UsageShapeError.check(outputTokens, "output_tokens")
        let read = try UsageShapeError.check(cacheReadInputTokens ?? 0, "cache_read_input_tokens")
        var write5m: Int
        var write1h = 0
        if let breakdown = cacheCreation {
            write5m = try UsageShapeError.check(breakdown.ephemeral5mInputTokens ?? 0, "cache_creation.ephemeral_5m_input_tokens")
            write1h = try UsageShapeError.check(breakdown.ephemeral1hInputTokens ?? 0, "cache_creation.ephemeral_1h_input_tokens")
            if let total = cacheCreationInputTokens, total != write5m + write1h {
                throw UsageShapeError(field: "cache_creation", reason: "5m (\(write5m)) + 1h (\(write1h)) writes do not add up to cache_creation_input_tokens (\(total))")
            }
        } else {
            write5m = try UsageShapeError.check(cacheCreationInputTokens ?? 0, "cache_creation_input_tokens")
        }
        return TokenUsage(uncachedInput: input, cacheRead: read, cacheWrite5m: write5m, cacheWrite1h: write1h, output: output)
    }
}
