/// Which attributes and events carry prompts, completions, tool arguments or results —
/// stored only when the project enables content capture — and how they are grouped into a
/// span's `contentJSON`.
///
/// Sources: OpenTelemetry GenAI (`gen_ai.input.messages`, `gen_ai.output.messages`,
/// `gen_ai.system_instructions`, `gen_ai.tool.call.arguments` / `result`; older
/// `gen_ai.prompt` / `gen_ai.completion`, OpenLLMetry's flattened `gen_ai.prompt.N.*` /
/// `gen_ai.completion.N.*`; the events `gen_ai.user.message`, `gen_ai.system.message`,
/// `gen_ai.assistant.message`, `gen_ai.tool.message`, `gen_ai.choice`,
/// `gen_ai.content.prompt` / `completion`, `gen_ai.client.inference.operation.details`),
/// OpenInference (`input.value`, `output.value`, `llm.input_messages.*`,
/// `llm.output_messages.*`, `llm.prompts.*`, `llm.choices.*`,
/// `llm.prompt_template.variables`, `embedding.embeddings.*`, `retrieval.documents.*`,
/// `reranker.*_documents.*`, `reranker.query`), Pydantic AI (`tool_arguments`,
/// `tool_response`, `final_result`, `all_messages_events`, `events`,
/// `pydantic_ai.all_messages`) and our SDK (`llmlab.input`, `llmlab.output`).
enum SpanContentPolicy {
    static let contentKeys: Set<String> = [
        "gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.system_instructions",
        "gen_ai.tool.call.arguments", "gen_ai.tool.call.result", "gen_ai.prompt", "gen_ai.completion",
        "input.value", "output.value", "llm.prompt_template.variables", "llm.function_call", "reranker.query",
        "tool_arguments", "tool_response", "final_result", "all_messages_events", "events", "pydantic_ai.all_messages",
        "llmlab.input", "llmlab.output",
    ]

    static let contentPrefixes = [
        "gen_ai.prompt.", "gen_ai.completion.", "llm.input_messages.", "llm.output_messages.", "llm.prompts.",
        "llm.choices.", "embedding.embeddings.", "retrieval.documents.", "reranker.input_documents.",
        "reranker.output_documents.",
    ]

    static let contentEventNames: Set<String> = [
        "gen_ai.user.message", "gen_ai.system.message", "gen_ai.assistant.message", "gen_ai.tool.message",
        "gen_ai.choice", "gen_ai.content.prompt", "gen_ai.content.completion", "gen_ai.client.inference.operation.details",
    ]

    /// Attributes of a content event that describe it without carrying content.
    static let eventMetadataKeys: Set<String> = [
        "gen_ai.system", "gen_ai.provider.name", "role", "index", "finish_reason", "gen_ai.message.index", "event.name",
    ]

    static func isContent(_ key: String) -> Bool {
        contentKeys.contains(key) || contentPrefixes.contains { key.hasPrefix($0) }
    }

    static func isContentEvent(_ name: String) -> Bool { contentEventNames.contains(name) }

    /// The slots of `contentJSON`, each filled from the first source present: an exact key,
    /// or every attribute under a flattened prefix (as an object keyed by attribute name).
    static let slots: [(name: String, keys: [String], prefixes: [String])] = [
        ("system_instructions", ["gen_ai.system_instructions"], []),
        ("input", ["gen_ai.input.messages", "llmlab.input", "input.value", "gen_ai.prompt"],
         ["llm.input_messages.", "gen_ai.prompt.", "llm.prompts."]),
        ("output", ["gen_ai.output.messages", "llmlab.output", "output.value", "gen_ai.completion", "final_result"],
         ["llm.output_messages.", "gen_ai.completion.", "llm.choices."]),
        ("tool_arguments", ["gen_ai.tool.call.arguments", "tool_arguments"], []),
        ("tool_result", ["gen_ai.tool.call.result", "tool_response"], []),
        ("messages", ["pydantic_ai.all_messages", "all_messages_events", "events"], []),
    ]

    /// `contentJSON` for a span that captures content: the slots above, `other` for content
    /// attributes no slot took, and `events` for content events.
    static func contentJSON(attributes: [String: AttributeValue], contentEvents: [String]) -> String {
        let content = attributes.filter { isContent($0.key) }
        guard !content.isEmpty || !contentEvents.isEmpty else { return "" }
        var used: Set<String> = []
        var document: [String: String] = [:]
        for slot in slots {
            if let key = slot.keys.first(where: { content[$0] != nil && !used.contains($0) }), let value = content[key] {
                document[slot.name] = SpanJSONWriter.encodeEmbeddingJSON(value)
                used.insert(key)
                continue
            }
            for prefix in slot.prefixes {
                let group = content.filter { $0.key.hasPrefix(prefix) && !used.contains($0.key) }
                guard !group.isEmpty else { continue }
                document[slot.name] = SpanJSONWriter.encode(.map(group))
                used.formUnion(group.keys)
                break
            }
        }
        let other = content.filter { !used.contains($0.key) }
        if !other.isEmpty {
            document["other"] = "{" + other.sorted { $0.key < $1.key }
                .map { SpanJSONWriter.quoted($0.key) + ":" + SpanJSONWriter.encodeEmbeddingJSON($0.value) }
                .joined(separator: ",") + "}"
        }
        if !contentEvents.isEmpty {
            document["events"] = "[" + contentEvents.joined(separator: ",") + "]"
        }
        return SpanJSONWriter.object(document)
    }
}
