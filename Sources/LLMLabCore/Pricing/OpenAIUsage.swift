/// The `usage` object of an OpenAI (or Azure OpenAI) Chat Completions or Embeddings
/// response, as on the wire.
///
/// OpenAI nests its counts: `prompt_tokens` INCLUDES `prompt_tokens_details.cached_tokens`
/// and `completion_tokens` INCLUDES `completion_tokens_details.reasoning_tokens`.
/// ``normalized()`` subtracts the parts so no token is billed twice. Decode with the
/// default key strategy (the coding keys already spell the wire names).
public struct OpenAIChatCompletionUsage: Sendable, Hashable, Codable {
    public var promptTokens: Int
    /// Absent on embeddings responses.
    public var completionTokens: Int?
    public var totalTokens: Int?
    public var promptTokensDetails: PromptTokensDetails?
    public var completionTokensDetails: CompletionTokensDetails?

    public init(promptTokens: Int, completionTokens: Int? = nil, totalTokens: Int? = nil,
                promptTokensDetails: PromptTokensDetails? = nil, completionTokensDetails: CompletionTokensDetails? = nil) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.totalTokens = totalTokens
        self.promptTokensDetails = promptTokensDetails
        self.completionTokensDetails = completionTokensDetails
    }

    /// `prompt_tokens_details`: parts of `prompt_tokens`.
    public struct PromptTokensDetails: Sendable, Hashable, Codable {
        public var cachedTokens: Int?
        public var audioTokens: Int?

        public init(cachedTokens: Int? = nil, audioTokens: Int? = nil) {
            self.cachedTokens = cachedTokens
            self.audioTokens = audioTokens
        }

        enum CodingKeys: String, CodingKey {
            case cachedTokens = "cached_tokens"
            case audioTokens = "audio_tokens"
        }
    }

    /// `completion_tokens_details`: parts of `completion_tokens`.
    public struct CompletionTokensDetails: Sendable, Hashable, Codable {
        public var reasoningTokens: Int?
        public var audioTokens: Int?
        public var acceptedPredictionTokens: Int?
        public var rejectedPredictionTokens: Int?

        public init(reasoningTokens: Int? = nil, audioTokens: Int? = nil,
                    acceptedPredictionTokens: Int? = nil, rejectedPredictionTokens: Int? = nil) {
            self.reasoningTokens = reasoningTokens
            self.audioTokens = audioTokens
            self.acceptedPredictionTokens = acceptedPredictionTokens
            self.rejectedPredictionTokens = rejectedPredictionTokens
        }

        enum CodingKeys: String, CodingKey {
            case reasoningTokens = "reasoning_tokens"
            case audioTokens = "audio_tokens"
            case acceptedPredictionTokens = "accepted_prediction_tokens"
            case rejectedPredictionTokens = "rejected_prediction_tokens"
        }
    }

    enum CodingKeys: String, CodingKey {
        case promptTokens = "prompt_tokens"
        case completionTokens = "completion_tokens"
        case totalTokens = "total_tokens"
        case promptTokensDetails = "prompt_tokens_details"
        case completionTokensDetails = "completion_tokens_details"
    }

    /// Billing classes: uncached input = prompt − cached; output = completion − reasoning.
    public func normalized() throws(UsageShapeError) -> TokenUsage {
        let prompt = try UsageShapeError.check(promptTokens, "prompt_tokens")
        let cached = try UsageShapeError.check(promptTokensDetails?.cachedTokens ?? 0, "prompt_tokens_details.cached_tokens")
        let completion = try UsageShapeError.check(completionTokens ?? 0, "completion_tokens")
        let reasoning = try UsageShapeError.check(completionTokensDetails?.reasoningTokens ?? 0, "completion_tokens_details.reasoning_tokens")
        try UsageShapeError.checkPart(cached, "prompt_tokens_details.cached_tokens", of: prompt, "prompt_tokens")
        try UsageShapeError.checkPart(reasoning, "completion_tokens_details.reasoning_tokens", of: completion, "completion_tokens")
        return TokenUsage(uncachedInput: prompt - cached, cacheRead: cached, output: completion - reasoning, reasoning: reasoning)
    }
}

/// The `usage` object of an OpenAI (or Azure OpenAI) Responses API response, as on the wire.
///
/// Same nesting as Chat Completions under other names: `input_tokens` INCLUDES
/// `input_tokens_details.cached_tokens`; `output_tokens` INCLUDES
/// `output_tokens_details.reasoning_tokens`.
public struct OpenAIResponsesUsage: Sendable, Hashable, Codable {
    public var inputTokens: Int
    public var inputTokensDetails: InputTokensDetails?
    public var outputTokens: Int
    public var outputTokensDetails: OutputTokensDetails?
    public var totalTokens: Int?

    public init(inputTokens: Int, inputTokensDetails: InputTokensDetails? = nil, outputTokens: Int,
                outputTokensDetails: OutputTokensDetails? = nil, totalTokens: Int? = nil) {
        self.inputTokens = inputTokens
        self.inputTokensDetails = inputTokensDetails
        self.outputTokens = outputTokens
        self.outputTokensDetails = outputTokensDetails
        self.totalTokens = totalTokens
    }

    /// `input_tokens_details`: parts of `input_tokens`.
    public struct InputTokensDetails: Sendable, Hashable, Codable {
        public var cachedTokens: Int?

        public init(cachedTokens: Int? = nil) { self.cachedTokens = cachedTokens }

        enum CodingKeys: String, CodingKey { case cachedTokens = "cached_tokens" }
    }

    /// `output_tokens_details`: parts of `output_tokens`.
    public struct OutputTokensDetails: Sendable, Hashable, Codable {
        public var reasoningTokens: Int?

        public init(reasoningTokens: Int? = nil) { self.reasoningTokens = reasoningTokens }

        enum CodingKeys: String, CodingKey { case reasoningTokens = "reasoning_tokens" }
    }

    enum CodingKeys: String, CodingKey {
        case inputTokens = "input_tokens"
        case inputTokensDetails = "input_tokens_details"
        case outputTokens = "output_tokens"
        case outputTokensDetails = "output_tokens_details"
        case totalTokens = "total_tokens"
    }

    /// Billing classes: uncached input = input − cached; output = output − reasoning.
    public func normalized() throws(UsageShapeError) -> TokenUsage {
        let input = try UsageShapeError.check(inputTokens, "input_tokens")
        let cached = try UsageShapeError.check(inputTokensDetails?.cachedTokens ?? 0, "input_tokens_details.cached_tokens")
        let output = try UsageShapeError.check(outputTokens, "output_tokens")
        let reasoning = try UsageShapeError.check(outputTokensDetails?.reasoningTokens ?? 0, "output_tokens_details.reasoning_tokens")
        try UsageShapeError.checkPart(cached, "input_tokens_details.cached_tokens", of: input, "input_tokens")
        try UsageShapeError.checkPart(reasoning, "output_tokens_details.reasoning_tokens", of: output, "output_tokens")
        return TokenUsage(uncachedInput: input - cached, cacheRead: cached, output: output - reasoning, reasoning: reasoning)
    }
}
