import HTTPTypes
@testable import LLMLabGateway
import Testing

@Suite("Messages request body")
struct MessagesRequestBodyTests {
    @Test("a valid body: model, stream and max_tokens are read; the bytes are kept")
    func valid() throws {
        let text = #"{"model":"claude-sonnet-4-5","max_tokens":1024,"messages":[{"role":"user","content":"Hi"}],"stream":true}"#
        let body = try MessagesRequestBody.parse(Array(text.utf8))
        #expect(body.model == "claude-sonnet-4-5")
        #expect(body.stream)
        #expect(body.maxOutputTokens == 1024)
        #expect(body.bytes == Array(text.utf8))
    }

    @Test("stream defaults to false; null stream is absent; the last duplicate member wins")
    func defaults() throws {
        let body = try MessagesRequestBody.parse(Array(#"{"model":"a","model":"b","max_tokens":5,"messages":[],"stream":null}"#.utf8))
        #expect(body.model == "b")
        #expect(!body.stream)
        #expect(body.maxOutputTokens == 5)
    }

    @Test("upstreamBody(model:) splices only the model; everything else survives byte for byte")
    func upstreamBody() throws {
        let text = #"{ "max_tokens" : 1024, "model":"fast", "temperature":0.70, "messages":[{"role":"user","content":"model"}] }"#
        let body = try MessagesRequestBody.parse(Array(text.utf8))
        let expected = #"{ "max_tokens" : 1024, "model":"claude-haiku-4-5", "temperature":0.70, "messages":[{"role":"user","content":"model"}] }"#
        #expect(String(decoding: body.upstreamBody(model: "claude-haiku-4-5"), as: UTF8.self) == expected)
        #expect(body.upstreamBody(model: "fast") == Array(text.utf8))
        // A model needing escapes is written as a JSON string.
        #expect(String(decoding: body.upstreamBody(model: "a\"b"), as: UTF8.self).contains(#""model":"a\"b""#))
    }

    @Test("value() gives the body as a JSONValue")
    func value() throws {
        let body = try MessagesRequestBody.parse(Array(#"{"model":"m","max_tokens":7,"messages":[]}"#.utf8))
        #expect(try body.value() == ["model": "m", "max_tokens": 7, "messages": []])
    }

    struct Bad: Sendable, CustomTestStringConvertible {
        var body: String
        var param: String?
        var code: String
        var mentions: String
        var testDescription: String { body }
    }

    static let bad: [Bad] = [
        Bad(body: "", param: nil, code: "invalid_json", mentions: "empty"),
        Bad(body: "{\"model\":", param: nil, code: "invalid_json", mentions: "not valid JSON"),
        Bad(body: "[1]", param: nil, code: "invalid_json", mentions: "JSON object"),
        Bad(body: #"{"max_tokens":1,"messages":[]}"#, param: "model", code: "missing_required_parameter", mentions: "model"),
        Bad(body: #"{"model":null,"max_tokens":1,"messages":[]}"#, param: "model", code: "missing_required_parameter", mentions: "model"),
        Bad(body: #"{"model":"","max_tokens":1,"messages":[]}"#, param: "model", code: "invalid_type", mentions: "model"),
        Bad(body: #"{"model":7,"max_tokens":1,"messages":[]}"#, param: "model", code: "invalid_type", mentions: "model"),
        Bad(body: #"{"model":"m","max_tokens":1}"#, param: "messages", code: "missing_required_parameter", mentions: "messages"),
        Bad(body: #"{"model":"m","max_tokens":1,"messages":{}}"#, param: "messages", code: "invalid_type", mentions: "messages"),
        Bad(body: #"{"model":"m","messages":[]}"#, param: "max_tokens", code: "missing_required_parameter", mentions: "max_tokens"),
        Bad(body: #"{"model":"m","max_tokens":0,"messages":[]}"#, param: "max_tokens", code: "invalid_value", mentions: "positive integer"),
        Bad(body: #"{"model":"m","max_tokens":-5,"messages":[]}"#, param: "max_tokens", code: "invalid_value", mentions: "max_tokens"),
        Bad(body: #"{"model":"m","max_tokens":1.5,"messages":[]}"#, param: "max_tokens", code: "invalid_value", mentions: "max_tokens"),
        Bad(body: #"{"model":"m","max_tokens":"10","messages":[]}"#, param: "max_tokens", code: "invalid_value", mentions: "max_tokens"),
        Bad(body: #"{"model":"m","max_tokens":1,"messages":[],"stream":"yes"}"#, param: "stream", code: "invalid_type", mentions: "stream"),
    ]

    @Test("bad bodies are refused with a 400 naming the field", arguments: bad)
    func refused(_ bad: Bad) {
        do {
            _ = try MessagesRequestBody.parse(Array(bad.body.utf8))
            Issue.record("accepted \(bad.body)")
        } catch {
            #expect(error.status.code == 400)
            #expect(error.kind == .invalidRequest)
            #expect(error.param == bad.param)
            #expect(error.code == bad.code)
            #expect(error.message.contains(bad.mentions), "\(error.message)")
        }
    }
}
