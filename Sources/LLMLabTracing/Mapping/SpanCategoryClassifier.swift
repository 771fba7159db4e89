/// Decides what a span is (LLM call, tool, agent step…) from whichever convention
/// described it, in this order: `gen_ai.operation.name` (OpenTelemetry GenAI),
/// `openinference.span.kind` (OpenInference), Pydantic AI's span names, then the shape of
/// the attributes (a model plus token counts is an LLM call; a tool name is a tool).
enum SpanCategoryClassifier {
    static func category(of span: RawSpan, _ reader: SpanAttributeReader) -> SpanCategory {
        if let operation = reader.string("gen_ai.operation.name"), let category = category(operation: operation) {
            return category
        }
        if let kind = reader.string("openinference.span.kind"), let category = category(openInferenceKind: kind) {
            return category
        }
        if let category = category(spanName: span.name) {
            return category
        }
        let hasModel = reader.string("gen_ai.request.model", "gen_ai.response.model", "llm.model_name",
                                     "llm.request.model_name", "llm.response.model_name") != nil
        let hasTokens = SpanUsageExtractor.hasTokenCounts(reader)
        if hasModel && hasTokens {
            return reader.string("llm.request.type") == "embedding" ? .embedding : .llm
        }
        if reader.string("gen_ai.tool.name", "tool.name") != nil {
            return .tool
        }
        return .other
    }

    /// OpenTelemetry GenAI `gen_ai.operation.name` well-known values (gen-ai-spans.md,
    /// gen-ai-agent-spans.md). Unknown values fall through to the other rules.
    static func category(operation: String) -> SpanCategory? {
        switch operation.lowercased() {
        case "chat", "text_completion", "generate_content", "completion", "responses": .llm
        case "embeddings", "embedding": .embedding
        case "execute_tool": .tool
        case "invoke_agent", "create_agent": .agent
        case "retrieval", "retrieve", "search_memory": .retriever
        case "invoke_workflow", "workflow": .chain
        default: nil
        }
    }

    /// OpenInference `openinference.span.kind` (spec/semantic_conventions.md, "Span Kinds").
    static func category(openInferenceKind kind: String) -> SpanCategory? {
        switch kind.uppercased() {
        case "LLM": .llm
        case "TOOL": .tool
        case "AGENT": .agent
        case "CHAIN": .chain
        case "RETRIEVER", "RERANKER": .retriever
        case "EMBEDDING": .embedding
        case "GUARDRAIL", "EVALUATOR", "PROMPT", "UNKNOWN": .other
        default: nil
        }
    }

    /// Pydantic AI span names: instrumentation version 1–2 `agent run` / `running tool`,
    /// version 3+ `invoke_agent {name}` / `execute_tool {name}`; model requests are
    /// `chat {model}` and carry `gen_ai.operation.name` anyway.
    static func category(spanName name: String) -> SpanCategory? {
        if name == "running tool" || name.hasPrefix("running tool:") || name.hasPrefix("execute_tool ") { return .tool }
        if name == "agent run" || name == "invoke_agent" || name.hasPrefix("invoke_agent ") { return .agent }
        return nil
    }
}
