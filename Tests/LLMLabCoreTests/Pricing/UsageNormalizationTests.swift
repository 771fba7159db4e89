import Foundation
import LLMLabCore
import Testing

/// Each provider's documented usage shape, decoded from wire JSON and normalised. The
/// invariant in every test: the normalised classes add up to the provider's own total, so
/// no token is counted twice (the classic cached-token bug) or dropped.
@Suite("Usage normalisation")
struct UsageNormalizationTests {
    @Test("OpenAI chat: prompt_tokens includes cached_tokens, completion_tokens includes reasoning_tokens")
    func openAIChat() throws {
        let wire = try decodeWire(OpenAIChatCompletionUsage.self, """
        {"prompt_tokens": 2006, "completion_tokens": 300, "total_tokens": 2306,
         "prompt_tokens_details": {"cached_tokens": 1920, "audio_tokens": 0},
         "completion_tokens_details": {"reasoning_tokens": 192, "audio_tokens": 0,
                                       "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}}
        """)
        let usage = try wire.normalized()
        #expect(usage == TokenUsage(uncachedInput: 86, cacheRead: 1920, output: 108, reasoning: 192))
        #expect(usage.promptTokens == 2006)
        #expect(usage.completionTokens == 300)
        #expect(usage.totalTokens == wire.totalTokens)
    }

    @Test("OpenAI chat without details, and embeddings (no completion_tokens)")
    func openAIPlainAndEmbeddings() throws {
        let chat = try decodeWire(OpenAIChatCompletionUsage.self, #"{"prompt_tokens": 19, "completion_tokens": 10, "total_tokens": 29}"#)
        #expect(try chat.normalized() == TokenUsage(uncachedInput: 19, output: 10))
        let embeddings = try decodeWire(OpenAIChatCompletionUsage.self, #"{"prompt_tokens": 8, "total_tokens": 8}"#)
        let usage = try embeddings.normalized()
        #expect(usage == TokenUsage(uncachedInput: 8))
        #expect(usage.totalTokens == embeddings.totalTokens)
    }

    @Test("OpenAI Responses: input_tokens includes cached_tokens, output_tokens includes reasoning_tokens")
    func openAIResponses() throws {
        let wire = try decodeWire(OpenAIResponsesUsage.self, """
        {"input_tokens": 5000, "input_tokens_details": {"cached_tokens": 4096},
         "output_tokens": 1500, "output_tokens_details": {"reasoning_tokens": 1024}, "total_tokens": 6500}
        """)
        let usage = try wire.normalized()
        #expect(usage == TokenUsage(uncachedInput: 904, cacheRead: 4096, output: 476, reasoning: 1024))
        #expect(usage.totalTokens == wire.totalTokens)
    }

    @Test("Anthropic: input_tokens excludes cache reads and writes; writes split 5 min / 1 h")
    func anthropic() throws {
        let wire = try decodeWire(AnthropicUsage.self, """
        {"input_tokens": 50, "cache_creation_input_tokens": 2048, "cache_read_input_tokens": 1800, "output_tokens": 503,
         "cache_creation": {"ephemeral_5m_input_tokens": 1024, "ephemeral_1h_input_tokens": 1024},
         "service_tier": "standard"}
        """)
        let usage = try wire.normalized()
        #expect(usage == TokenUsage(uncachedInput: 50, cacheRead: 1800, cacheWrite5m: 1024, cacheWrite1h: 1024, output: 503))
        // Anthropic reports no total: the prompt is the sum of its three disjoint counts.
        #expect(usage.promptTokens == 50 + 2048 + 1800)
        #expect(usage.totalTokens == 50 + 2048 + 1800 + 503)
    }

    @Test("Anthropic without the TTL breakdown: every cache write is a 5-minute write")
    func anthropicDefaultTTL() throws {
        let wire = try decodeWire(AnthropicUsage.self, """
        {"input_tokens": 21, "cache_creation_input_tokens": 188086, "cache_read_input_tokens": 0, "output_tokens": 393}
        """)
        #expect(try wire.normalized() == TokenUsage(uncachedInput: 21, cacheWrite5m: 188_086, output: 393))
        let minimal = try decodeWire(AnthropicUsage.self, #"{"input_tokens": 12, "output_tokens": 6}"#)
        #expect(try minimal.normalized() == TokenUsage(uncachedInput: 12, output: 6))
    }

    @Test("Anthropic: a TTL breakdown that does not add up is refused")
    func anthropicMismatch() throws {
        let wire = try decodeWire(AnthropicUsage.self, """
        {"input_tokens": 1, "cache_creation_input_tokens": 100, "output_tokens": 1,
         "cache_creation": {"ephemeral_5m_input_tokens": 10, "ephemeral_1h_input_tokens": 20}}
        """)
        #expect(throws: UsageShapeError.self) { try wire.normalized() }
    }

    @Test("Gemini: promptTokenCount includes cachedContentTokenCount; thoughts and tool-use prompt are reported apart")
    func gemini() throws {
        let wire = try decodeWire(GeminiUsageMetadata.self, """
        {"promptTokenCount": 1000, "candidatesTokenCount": 200, "totalTokenCount": 1550,
         "cachedContentTokenCount": 600, "thoughtsTokenCount": 300, "toolUsePromptTokenCount": 50,
         "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 1000}]}
        """)
        let usage = try wire.normalized()
        #expect(usage == TokenUsage(uncachedInput: 450, cacheRead: 600, output: 200, reasoning: 300))
        #expect(usage.totalTokens == wire.totalTokenCount)
    }

    @Test("Gemini omits zero counts")
    func geminiOmitted() throws {
        let wire = try decodeWire(GeminiUsageMetadata.self, #"{"promptTokenCount": 7, "candidatesTokenCount": 3, "totalTokenCount": 10}"#)
        let usage = try wire.normalized()
        #expect(usage == TokenUsage(uncachedInput: 7, output: 3))
        #expect(usage.totalTokens == wire.totalTokenCount)
        #expect(try GeminiUsageMetadata().normalized() == .zero)
    }

    @Test("contradictory counts are refused, naming the wire field")
    func contradictions() {
        let cases: [(String, () throws -> TokenUsage)] = [
            ("prompt_tokens_details.cached_tokens", {
                try OpenAIChatCompletionUsage(promptTokens: 10, completionTokens: 0,
                                              promptTokensDetails: .init(cachedTokens: 11)).normalized()
            }),
            ("completion_tokens_details.reasoning_tokens", {
                try OpenAIChatCompletionUsage(promptTokens: 10, completionTokens: 5,
                                              completionTokensDetails: .init(reasoningTokens: 6)).normalized()
            }),
            ("input_tokens_details.cached_tokens", {
                try OpenAIResponsesUsage(inputTokens: 1, inputTokensDetails: .init(cachedTokens: 2), outputTokens: 0).normalized()
            }),
            ("output_tokens", { try OpenAIResponsesUsage(inputTokens: 1, outputTokens: -1).normalized() }),
            ("cache_read_input_tokens", { try AnthropicUsage(inputTokens: 1, outputTokens: 1, cacheReadInputTokens: -3).normalized() }),
            ("cachedContentTokenCount", { try GeminiUsageMetadata(promptTokenCount: 5, cachedContentTokenCount: 6).normalized() }),
        ]
        for (field, normalise) in cases {
            do {
                _ = try normalise()
                Issue.record("accepted contradictory \(field)")
            } catch let error as UsageShapeError {
                #expect(error.field == field)
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
    }
}
