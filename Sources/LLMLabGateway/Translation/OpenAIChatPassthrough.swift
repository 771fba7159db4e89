import LLMLabCore

/// OpenAI chat client → an OpenAI-compatible provider (OpenAI, Azure OpenAI): nothing to
/// translate. The request goes as the client sent it (``ClientRequest/passthroughBody``),
/// answers and errors come back byte for byte; usage is read on the way.
struct OpenAIChatPassthrough: ChatTranslation {
    var passesRequestThrough: Bool { true }

    func translateRequest(_ body: JSONValue, model: String, stream: Bool) throws(GatewayError) -> [UInt8] {
        // Only reached if a caller ignores `passesRequestThrough`; still correct.
        guard case .object(var members) = body else { return body.encoded() }
        members["model"] = .string(model)
        return JSONValue.object(members).encoded()
    }

    func translateResponse(_ body: [UInt8], requestedModel: String) throws(GatewayError) -> TranslatedResponse {
        var result = TranslatedResponse(body: body)
        guard let scanned = ScannedResponse(body) else { return result }
        result.responseModel = scanned.model
        if let usage = ChatCompletionUsage.extract(fromObjectAt: scanned.range, in: body) {
            (result.usage, result.usageProblem) = usage.normalizedForMeter()
        }
        return result
    }

    func translateError(status: Int, body: [UInt8]) -> [UInt8] { body }

    func makeStreamTranslator(includeUsage: Bool, requestedModel: String) -> any StreamTranslator {
        OpenAIChatStreamPassthrough(relay: ChatStreamRelay(stripUsageChunk: !includeUsage))
    }
}

/// ``ChatStreamRelay`` as a ``StreamTranslator``: the stream passes through, minus the
/// usage chunk the proxy asked for on the client's behalf.
struct OpenAIChatStreamPassthrough: StreamTranslator {
    var relay: ChatStreamRelay

    mutating func consume(_ piece: some Collection<UInt8>) throws -> [UInt8] { try relay.consume(piece) }
    mutating func finish() -> [UInt8] { relay.finish() }
    var usage: TokenUsage? { relay.usage?.normalizedForMeter().0 }
    var usageProblem: String? { relay.usage?.normalizedForMeter().1 }
    var responseModel: String { relay.responseModel }
    var isComplete: Bool { relay.sawDone }
    var streamError: UpstreamErrorClass? { relay.sawError ? .serverError : nil }
}

/// OpenAI embeddings client → OpenAI or Azure OpenAI: passes through; usage is
/// `usage.prompt_tokens`, all uncached input.
struct OpenAIEmbeddingsPassthrough: ChatTranslation {
    var passesRequestThrough: Bool { true }

    func translateRequest(_ body: JSONValue, model: String, stream: Bool) throws(GatewayError) -> [UInt8] {
        try OpenAIChatPassthrough().translateRequest(body, model: model, stream: stream)
    }

    func translateResponse(_ body: [UInt8], requestedModel: String) throws(GatewayError) -> TranslatedResponse {
        var result = TranslatedResponse(body: body)
        guard let scanned = ScannedResponse(body) else { return result }
        result.responseModel = scanned.model
        if let usage = scanned.members.last(where: { $0.key == "usage" }), usage.kind == .object,
           let value = JSONValue.parse(body[usage.value]) {
            if let prompt = value["prompt_tokens"]?.intValue, prompt >= 0 {
                result.usage = TokenUsage(uncachedInput: prompt)
            } else {
                result.usageProblem = "invalid_usage: usage.prompt_tokens is missing or negative"
            }
        }
        return result
    }

    func translateError(status: Int, body: [UInt8]) -> [UInt8] { body }

    func makeStreamTranslator(includeUsage: Bool, requestedModel: String) -> any StreamTranslator {
        OpenAIChatStreamPassthrough(relay: ChatStreamRelay(stripUsageChunk: false))
    }
}

extension ChatCompletionUsage {
    /// Billing classes, or why OpenAI's counts are inconsistent.
    func normalizedForMeter() -> (TokenUsage?, String?) {
        do {
            return (try openAI.normalized(), nil)
        } catch {
            return (nil, "invalid_usage: \(error)")
        }
    }
}

extension ChatTranslation {
    var passesRequestThrough: Bool { false }
}

extension ChatCompletionUsage {
    /// The same counts in the pricing library's wire type.
    var openAI: OpenAIChatCompletionUsage {
        OpenAIChatCompletionUsage(
            promptTokens: promptTokens, completionTokens: completionTokens,
            promptTokensDetails: .init(cachedTokens: cachedTokens),
            completionTokensDetails: .init(reasoningTokens: reasoningTokens))
    }
}

/// A provider's JSON response as the pass-through translations read it: the top-level
/// members (scanned, not parsed) and the `model` it reports ("" when none).
struct ScannedResponse {
    let range: Range<Int>
    let members: [JSONScanner.Member]
    let model: String

    init?(_ body: [UInt8]) {
        guard let document = try? JSONScanner.document(body), document.kind == .object,
              let members = try? JSONScanner.members(ofObjectAt: document.range, in: body)
        else { return nil }
        range = document.range
        self.members = members
        if let model = members.last(where: { $0.key == "model" }), model.kind == .string {
            self.model = (try? JSONScanner.string(at: model.value, in: body)) ?? ""
        } else {
            model = ""
        }
    }
}
