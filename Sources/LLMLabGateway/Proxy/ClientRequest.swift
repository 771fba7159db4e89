import LLMLabCore

/// A client's proxy request as the upstream engine needs it, whatever API the client
/// called: enough to route, meter and build each attempt's upstream body.
struct ClientRequest: Sendable {
    /// The API the client called on the proxy.
    enum API: Sendable {
        /// `POST /v1/chat/completions` (OpenAI).
        case chatCompletions
        /// `POST /v1/messages` (Anthropic).
        case messages
        /// `POST /v1/embeddings` (OpenAI).
        case embeddings
    }

    var api: API
    var model: String
    var stream: Bool
    /// OpenAI chat: the client asked for the stream's usage chunk.
    var includeUsage: Bool
    /// The client's body, as received.
    var bytes: [UInt8]
    /// Client headers a provider speaking the client's API should see (Anthropic's
    /// `anthropic-version` and `anthropic-beta` on `/v1/messages`).
    var passHeaders: [(String, String)] = []
    /// The client's body with `model` substituted (and, for OpenAI chat streams, the usage
    /// request injected): the upstream body for a provider that speaks the client's API.
    var passthroughBody: @Sendable (_ model: String) -> [UInt8]
    /// The end user the body names (``ClientBodyFields/endUser()``); the
    /// `x-llmlab-user` header overrides it.
    var endUser: String = ""

    /// Longest end-user id kept; longer ones are cut (ids, not free text).
    static let maxEndUserLength = 128

    /// `value` without surrounding spaces and tabs, cut to ``maxEndUserLength`` characters.
    static func endUser(_ value: some StringProtocol) -> String {
        let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = value.firstIndex(where: { !isBlank($0) }), let last = value.lastIndex(where: { !isBlank($0) }) else {
            return ""
        }
        return String(value[first...last].prefix(maxEndUserLength))
    }

    var operation: ProviderEndpoint.Operation { api == .embeddings ? .embed : .generate }

    /// How this client's API reaches `provider`.
    func translation(for provider: Provider) -> any ChatTranslation {
        switch (api, provider) {
        case (.chatCompletions, .openai), (.chatCompletions, .azureOpenAI):
            OpenAIChatPassthrough()
        case (.chatCompletions, .anthropic):
            AnthropicChatTranslation()
        case (.chatCompletions, .gemini):
            GeminiChatTranslation()
        case (.messages, .anthropic):
            AnthropicMessagesPassthrough()
        case (.messages, .openai), (.messages, .azureOpenAI):
            MessagesToOpenAIChatTranslation()
        case (.messages, .gemini):
            ChainedTranslation(outer: MessagesToOpenAIChatTranslation(), inner: GeminiChatTranslation())
        case (.embeddings, .openai), (.embeddings, .azureOpenAI), (.embeddings, .anthropic):
            // Anthropic is refused when its URL is built (it has no embeddings API).
            OpenAIEmbeddingsPassthrough()
        case (.embeddings, .gemini):
            GeminiEmbeddingsTranslation()
        }
    }

    /// Whether a stream's client bytes so far carry model output (text, a tool call, a
    /// finish reason, usage, an error) rather than only the stream's preamble: OpenAI's
    /// role-only first chunk, Anthropic's `message_start`, an empty text block's start,
    /// pings and comments. Until they do, the proxy may still fall back to another
    /// deployment, since the client has seen nothing that matters.
    func containsOutput(_ bytes: [UInt8]) -> Bool {
        guard !bytes.isEmpty else { return false }
        var framer = SSEEventFramer()
        guard var events = try? framer.append(bytes).map(Array.init) else { return true }
        if let rest = framer.finish() { events.append(rest) }
        return events.contains { event in
            guard let data = SSEEventFramer.data(of: event[...]) else { return false }
            return !isPreamble(Array(data))
        }
    }

    private func isPreamble(_ data: [UInt8]) -> Bool {
        guard let value = JSONValue.parse(data) else { return false }  // `[DONE]` or other text: output
        switch api {
        case .messages:
            switch value["type"]?.stringValue {
            case "message_start", "ping": return true
            case "content_block_start":
                let block = value["content_block"]
                return block?["type"]?.stringValue == "text" && (block?["text"]?.stringValue ?? "").isEmpty
            default: return false
            }
        case .chatCompletions, .embeddings:
            guard value["error"] == nil, value["usage"] == nil || value["usage"] == .null,
                  let choices = value["choices"]?.arrayValue, !choices.isEmpty
            else { return false }
            return choices.allSatisfy { choice in
                guard choice["finish_reason"] == nil || choice["finish_reason"] == .null,
                      let delta = choice["delta"]?.objectValue
                else { return false }
                return delta.allSatisfy { key, value in
                    switch key {
                    case "role": true
                    case "content", "refusal": value == .null || value.stringValue == ""
                    default: value == .null
                    }
                }
            }
        }
    }

    /// An error event inside a stream that already started, in the client's API: what the
    /// SDKs raise on.
    func streamErrorEvent(_ error: GatewayError) -> [UInt8] {
        switch api {
        case .messages: Array("event: error\ndata: \(error.anthropicBody)\n\n".utf8)
        case .chatCompletions, .embeddings: Array("data: \(error.body)\n\n".utf8)
        }
    }
}
