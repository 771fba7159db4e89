import LLMLabCore

/// Token counts read from a span, split into our billing classes, or why they cannot be.
struct ExtractedUsage: Sendable, Hashable {
    /// Billing classes, each token once; never negative (clamped when the counts are
    /// inconsistent, in which case ``problem`` says so and the span is not priced).
    var usage: TokenUsage
    /// Set when the counts contradict each other (a part larger than its total, a negative
    /// count): the text after `invalid_usage: `.
    var problem: String?
}

/// Reads token counts from OpenTelemetry GenAI or OpenInference attributes and undoes
/// their nesting so no token is priced twice.
///
/// Both conventions report TOTALS with parts inside them:
/// - GenAI (gen-ai-spans.md): `gen_ai.usage.input_tokens` SHOULD include
///   `gen_ai.usage.cache_read.input_tokens` and `gen_ai.usage.cache_creation.input_tokens`;
///   `gen_ai.usage.output_tokens` includes `gen_ai.usage.reasoning.output_tokens`. Older
///   spellings: `gen_ai.usage.prompt_tokens` / `completion_tokens` (semconv ≤ 1.26,
///   OpenLLMetry), `gen_ai.usage.cache_read_input_tokens` /
///   `cache_creation_input_tokens`; Pydantic AI puts the parts under
///   `gen_ai.usage.details.cache_read_tokens` / `cache_write_tokens` /
///   `reasoning_tokens` (its `input_tokens` includes the cache, as in the semconv).
/// - OpenInference: `llm.token_count.prompt` with
///   `llm.token_count.prompt_details.cache_read` / `cache_write`, and
///   `llm.token_count.completion` with `llm.token_count.completion_details.reasoning`.
///
/// So: uncached input = input − cache read − cache write; output = output − reasoning.
/// Cache writes carry no TTL split in either convention, so they count as 5-minute writes
/// (Anthropic's default TTL, the cheaper write price).
enum SpanUsageExtractor {
    struct Keys {
        let input: [String]
        let output: [String]
        let cacheRead: [String]
        let cacheWrite: [String]
        let reasoning: [String]
    }

    static let genAI = Keys(
        input: ["gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens"],
        output: ["gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens"],
        cacheRead: ["gen_ai.usage.cache_read.input_tokens", "gen_ai.usage.cache_read_input_tokens",
                    "gen_ai.usage.input_tokens.cached", "gen_ai.usage.details.cache_read_tokens"],
        cacheWrite: ["gen_ai.usage.cache_creation.input_tokens", "gen_ai.usage.cache_creation_input_tokens",
                     "gen_ai.usage.input_tokens.cache_write", "gen_ai.usage.details.cache_write_tokens"],
        reasoning: ["gen_ai.usage.reasoning.output_tokens", "gen_ai.usage.output_tokens.reasoning",
                    "gen_ai.usage.details.reasoning_tokens"])

    static let openInference = Keys(
        input: ["llm.token_count.prompt"],
        output: ["llm.token_count.completion"],
        cacheRead: ["llm.token_count.prompt_details.cache_read"],
        cacheWrite: ["llm.token_count.prompt_details.cache_write"],
        reasoning: ["llm.token_count.completion_details.reasoning"])

    /// Whether the span carries any token count we understand.
    static func hasTokenCounts(_ reader: SpanAttributeReader) -> Bool {
        hasCounts(reader, genAI) || hasCounts(reader, openInference)
    }

    /// The span's usage, or nil when it reports no token counts. GenAI attributes win over
    /// OpenInference ones; the two are never mixed.
    static func extract(_ reader: SpanAttributeReader) -> ExtractedUsage? {
        if hasCounts(reader, genAI) { return extract(reader, genAI) }
        if hasCounts(reader, openInference) { return extract(reader, openInference) }
        return nil
    }

    private static func hasCounts(_ reader: SpanAttributeReader, _ keys: Keys) -> Bool {
        reader.int(keys.input) != nil || reader.int(keys.output) != nil
    }

    private static func extract(_ reader: SpanAttributeReader, _ keys: Keys) -> ExtractedUsage {
        let input = reader.int(keys.input) ?? (keys.input[0], 0)
        let output = reader.int(keys.output) ?? (keys.output[0], 0)
        let read = reader.int(keys.cacheRead) ?? (keys.cacheRead[0], 0)
        let write = reader.int(keys.cacheWrite) ?? (keys.cacheWrite[0], 0)
        let reasoning = reader.int(keys.reasoning) ?? (keys.reasoning[0], 0)

        var problems: [String] = []
        for count in [input, output, read, write, reasoning] where count.value < 0 {
            problems.append("\(count.key) is negative (\(count.value))")
        }
        let cached = max(read.value, 0) + max(write.value, 0)
        if cached > max(input.value, 0) {
            problems.append("\(read.key) (\(read.value)) + \(write.key) (\(write.value)) exceed \(input.key) (\(input.value)), which must include them")
        }
        if max(reasoning.value, 0) > max(output.value, 0) {
            problems.append("\(reasoning.key) (\(reasoning.value)) exceeds \(output.key) (\(output.value)), which must include it")
        }
        let usage = TokenUsage(
            uncachedInput: max(input.value - max(read.value, 0) - max(write.value, 0), 0),
            cacheRead: max(read.value, 0),
            cacheWrite5m: max(write.value, 0),
            cacheWrite1h: 0,
            output: max(output.value - max(reasoning.value, 0), 0),
            reasoning: max(reasoning.value, 0))
        return ExtractedUsage(usage: usage, problem: problems.isEmpty ? nil : problems.joined(separator: "; "))
    }
}
