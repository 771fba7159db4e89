import HTTPTypes
import LLMLabCore
@testable import LLMLabGateway
import Testing

/// A small test translation with a recognisable shape at every step, so a composition
/// shows which translation ran, in which order, with what.
private struct TaggingTranslation: ChatTranslation {
    /// `client→mid` wraps requests in `{"<tag>": body}`; answers unwrap into `{"<tag>": answer}`.
    let tag: String
    let usage: TokenUsage?
    let model: String
    /// Refuse requests carrying this member (to check errors propagate).
    var refuses: String = "forbidden"

    func translateRequest(_ body: JSONValue, model: String, stream: Bool) throws(GatewayError) -> [UInt8] {
        if body[refuses] != nil {
            throw GatewayError(.badRequest, .invalidRequest, "\(tag) refuses \(refuses)", param: refuses)
        }
        return JSONValue.object([tag: body, "model": .string(model), "stream": .bool(stream)]).encoded()
    }

    func translateResponse(_ body: [UInt8], requestedModel: String) throws(GatewayError) -> TranslatedResponse {
        guard let value = JSONValue.parse(body) else {
            throw GatewayError.invalidUpstreamResponse(tag, "not JSON")
        }
        return TranslatedResponse(body: JSONValue.object([tag: value]).encoded(), usage: usage, usageProblem: usage == nil ? "\(tag) saw none" : nil,
                                  responseModel: model)
    }

    func translateError(status: Int, body: [UInt8]) -> [UInt8] {
        Array("\(tag)[\(status)](".utf8) + body + Array(")".utf8)
    }

    func makeStreamTranslator(includeUsage: Bool, requestedModel: String) -> any StreamTranslator {
        LineTagger(tag: tag, includeUsage: includeUsage, model: model)
    }
}

/// Per complete line: writes `<tag>:<line>\n`. The outer is complete once it has seen a
/// line ending in `:done`; the inner never is (ending is the outer's). Usage = lines seen
/// (when `includeUsage`), model = its own, a rate-limit error on a line ending in `boom`.
private struct LineTagger: StreamTranslator {
    let tag: String
    let includeUsage: Bool
    let model: String
    private var pending: [UInt8] = []
    private var lines = 0
    private(set) var isComplete = false
    private(set) var streamError: UpstreamErrorClass?

    init(tag: String, includeUsage: Bool, model: String) {
        self.tag = tag
        self.includeUsage = includeUsage
        self.model = model
    }

    mutating func consume(_ piece: some Collection<UInt8>) throws -> [UInt8] {
        pending += piece
        var out: [UInt8] = []
        while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
            let line = String(decoding: pending[..<newline], as: UTF8.self)
            pending.removeFirst(newline + 1)
            lines += 1
            if line.hasSuffix("boom") { streamError = .rateLimited }
            if line.hasSuffix(":done") { isComplete = tag == "outer" }
            out += Array("\(tag):\(line)\n".utf8)
        }
        return out
    }

    mutating func finish() -> [UInt8] {
        defer { pending = [] }
        return pending.isEmpty ? [] : Array("\(tag):\(String(decoding: pending, as: UTF8.self))!\n".utf8)
    }

    var usage: TokenUsage? { includeUsage ? TokenUsage(output: lines) : nil }
    var usageProblem: String? { includeUsage ? nil : "\(tag): not asked" }
    var responseModel: String { model }
}

@Suite("Chained translation")
struct ChainedTranslationTests {
    static let outerUsage = TokenUsage(uncachedInput: 1, output: 1)
    static let innerUsage = TokenUsage(uncachedInput: 100, cacheRead: 20, output: 30)

    let chain = ChainedTranslation(
        outer: TaggingTranslation(tag: "outer", usage: outerUsage, model: "outer-model", refuses: "outer-no"),
        inner: TaggingTranslation(tag: "inner", usage: innerUsage, model: "provider-model-001", refuses: "inner-no"))

    @Test("request: inner(outer(body)), both with the provider model and stream flag")
    func request() throws {
        let out = try chain.translateRequest(["messages": []], model: "gemini-2.5-flash", stream: true)
        #expect(JSONValue.parse(out) == [
            "inner": ["outer": ["messages": []], "model": "gemini-2.5-flash", "stream": true],
            "model": "gemini-2.5-flash", "stream": true,
        ])
        #expect(!chain.passesRequestThrough)
    }

    @Test("request errors from either step propagate unchanged")
    func requestErrors() {
        for (field, tag) in [("outer-no", "outer"), ("inner-no", "inner")] {
            do {
                // The inner sees the outer's output, whose top level holds "outer": make the inner refuse that.
                let body: JSONValue = field == "outer-no" ? ["outer-no": true] : ["x": 1]
                let chain = field == "outer-no" ? self.chain : ChainedTranslation(
                    outer: TaggingTranslation(tag: "outer", usage: nil, model: "", refuses: "nothing"),
                    inner: TaggingTranslation(tag: "inner", usage: nil, model: "", refuses: "outer"))
                _ = try chain.translateRequest(body, model: "m", stream: false)
                Issue.record("accepted for \(tag)")
            } catch {
                #expect(error.status.code == 400)
                #expect(error.message.hasPrefix(tag))
            }
        }
    }

    @Test("response: outer(inner(body)); usage, problem and model are the provider's (inner) reading")
    func response() throws {
        let result = try chain.translateResponse(Array(#"{"candidates":[]}"#.utf8), requestedModel: "alias")
        #expect(JSONValue.parse(result.body) == ["outer": ["inner": ["candidates": []]]])
        #expect(result.usage == Self.innerUsage)
        #expect(result.usageProblem == nil)
        #expect(result.responseModel == "provider-model-001")

        // An inner without usage: the chain reports the inner's problem, not the outer's usage.
        let noUsage = ChainedTranslation(
            outer: TaggingTranslation(tag: "outer", usage: Self.outerUsage, model: "outer-model"),
            inner: TaggingTranslation(tag: "inner", usage: nil, model: ""))
        let second = try noUsage.translateResponse(Array("{}".utf8), requestedModel: "alias")
        #expect(second.usage == nil)
        #expect(second.usageProblem == "inner saw none")
        #expect(second.responseModel == "outer-model")  // the inner named none
    }

    @Test("response errors from the inner propagate")
    func responseError() {
        #expect(throws: GatewayError.self) { try chain.translateResponse(Array("nope".utf8), requestedModel: "m") }
    }

    @Test("errors: outer(inner(body)), same status")
    func errors() {
        let out = chain.translateError(status: 429, body: Array("quota".utf8))
        #expect(String(decoding: out, as: UTF8.self) == "outer[429](inner[429](quota))")
    }

    @Test("stream: the inner's output feeds the outer, cut anywhere", arguments: [1, 3, 1000])
    func stream(pieceSize: Int) throws {
        var stream = chain.makeStreamTranslator(includeUsage: false, requestedModel: "alias")
        let input = Array("a\nb\ndone\n".utf8)
        var out: [UInt8] = []
        var completeAfter: [Bool] = []
        for start in stride(from: 0, to: input.count, by: pieceSize) {
            out += try stream.consume(input[start..<min(start + pieceSize, input.count)])
            completeAfter.append(stream.isComplete)
        }
        out += stream.finish()
        #expect(String(decoding: out, as: UTF8.self) == "outer:inner:a\nouter:inner:b\nouter:inner:done\n")
        // Complete from the outer (it saw "inner:done"); never before the last line.
        #expect(stream.isComplete)
        #expect(completeAfter.dropLast().allSatisfy { !$0 })
        // The inner was asked for usage (the outer needs it) though the client was not: 3 lines.
        #expect(stream.usage == TokenUsage(output: 3))
        #expect(stream.usageProblem == nil)
        #expect(stream.responseModel == "provider-model-001")
        #expect(stream.streamError == nil)
    }

    @Test("stream: leftovers at the end go through both; errors come from the inner")
    func streamFinishAndError() throws {
        var stream = chain.makeStreamTranslator(includeUsage: true, requestedModel: "alias")
        var out = try stream.consume(Array("boom\ntail".utf8))
        #expect(stream.streamError == .rateLimited)
        out += stream.finish()
        // "tail" had no newline: the inner's finish writes "inner:tail!\n", which the outer tags in its consume.
        #expect(String(decoding: out, as: UTF8.self) == "outer:inner:boom\nouter:inner:tail!\n")
        #expect(!stream.isComplete)
    }
}
