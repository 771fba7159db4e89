import HTTPTypes
@testable import LLMLabGateway
import Testing

@Suite("JSON scanner")
struct JSONScannerTests {
    func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test("accepts RFC 8259 documents", arguments: [
        #"{}"#, #"[]"#, #" {"a" : [1, -2.5e+3, 0, true, false, null, "x\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"]} "#,
        #""just a string""#, "42", "null", #"{"a":{"b":{"c":[[[]]]}}}"#,
    ])
    func accepts(_ text: String) throws {
        _ = try JSONScanner.document(bytes(text))
    }

    @Test("refuses malformed documents", arguments: [
        "", "{", #"{"a":}"#, #"{"a" 1}"#, "[1,]", "{,}", "01", "1.", "-", "1e", "tru", #""\x""#, "\"a\u{01}\"",
        #"{"a":1}{"#, #"{a:1}"#, "[1 2]", #""\u12""#, "\"unterminated",
    ])
    func refuses(_ text: String) {
        #expect(throws: JSONScanner.SyntaxError.self) { try JSONScanner.document(self.bytes(text)) }
    }

    @Test("refuses nesting deeper than the limit instead of overflowing the stack")
    func depth() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONScanner.SyntaxError.self) { try JSONScanner.document(self.bytes(deep)) }
    }

    @Test("reports members with decoded keys and exact value ranges")
    func members() throws {
        let text = bytes(#"{"model" : "gpt\u002d4o", "n":[1,{"x":2}], "e\"k":null}"#)
        let document = try JSONScanner.document(text)
        let members = try JSONScanner.members(ofObjectAt: document.range, in: text)
        #expect(members.map(\.key) == ["model", "n", "e\"k"])
        #expect(members.map(\.kind) == [.string, .array, .null])
        #expect(try JSONScanner.string(at: members[0].value, in: text) == "gpt-4o")
        #expect(String(decoding: text[members[1].value], as: UTF8.self) == #"[1,{"x":2}]"#)
        #expect(!JSONScanner.isEmptyArray(members[1].value, in: text))
        let empty = bytes(#"{"choices": [ ] }"#)
        let emptyMembers = try JSONScanner.members(ofObjectAt: try JSONScanner.document(empty).range, in: empty)
        #expect(JSONScanner.isEmptyArray(emptyMembers[0].value, in: empty))
    }
}

@Suite("Chat completion request body")
struct ChatCompletionRequestBodyTests {
    func parse(_ text: String) throws -> ChatCompletionRequestBody {
        try ChatCompletionRequestBody.parse(Array(text.utf8))
    }

    func upstream(_ text: String) throws -> String {
        String(decoding: try parse(text).upstreamBody(), as: UTF8.self)
    }

    @Test("non-streaming bodies go upstream untouched")
    func untouched() throws {
        let text = #"{"model":"gpt-4o","messages":[],"seed":9007199254740993,"temperature":0.70}"#
        let body = try parse(text)
        #expect(body.model == "gpt-4o")
        #expect(!body.stream)
        #expect(!body.needsInjectedUsage)
        #expect(try upstream(text) == text)
    }

    @Test("streaming bodies get include_usage, whatever stream_options looked like")
    func injection() throws {
        #expect(try upstream(#"{"model":"m","messages":[],"stream":true}"#)
            == #"{"stream_options":{"include_usage":true},"model":"m","messages":[],"stream":true}"#)
        #expect(try upstream(#" { "model":"m","messages":[],"stream":true,"stream_options":null}"#)
            == #" { "model":"m","messages":[],"stream":true,"stream_options":{"include_usage":true}}"#)
        #expect(try upstream(#"{"model":"m","messages":[],"stream":true,"stream_options":{}}"#)
            == #"{"model":"m","messages":[],"stream":true,"stream_options":{"include_usage":true}}"#)
        #expect(try upstream(#"{"model":"m","messages":[],"stream":true,"stream_options":{"x":1}}"#)
            == #"{"model":"m","messages":[],"stream":true,"stream_options":{"include_usage":true,"x":1}}"#)
        #expect(try upstream(#"{"model":"m","messages":[],"stream":true,"stream_options":{"include_usage":false}}"#)
            == #"{"model":"m","messages":[],"stream":true,"stream_options":{"include_usage":true}}"#)
        #expect(try upstream(#"{"model":"m","messages":[],"stream":true,"stream_options":{"include_usage":null}}"#)
            == #"{"model":"m","messages":[],"stream":true,"stream_options":{"include_usage":true}}"#)
        // Every result is still valid JSON.
        for text in [#"{"model":"m","messages":[],"stream":true,"stream_options":{"x":1}}"#, #"{"model":"m","messages":[],"stream":true}"#] {
            _ = try JSONScanner.document(try parse(text).upstreamBody())
        }
    }

    @Test("a client that asked for usage gets its own body forwarded")
    func clientAskedForUsage() throws {
        let text = #"{"model":"m","messages":[],"stream":true,"stream_options":{"include_usage":true}}"#
        let body = try parse(text)
        #expect(body.clientRequestedUsage)
        #expect(!body.needsInjectedUsage)
        #expect(try upstream(text) == text)
    }

    @Test("errors name the field", arguments: [
        (#"{"messages":[]}"#, "model"), (#"{"model":"","messages":[]}"#, "model"), (#"{"model":null,"messages":[]}"#, "model"),
        (#"{"model":"m"}"#, "messages"), (#"{"model":"m","messages":{}}"#, "messages"),
        (#"{"model":"m","messages":[],"stream":1}"#, "stream"),
        (#"{"model":"m","messages":[],"stream_options":[]}"#, "stream_options"),
    ])
    func errors(_ text: String, _ param: String) {
        do {
            _ = try parse(text)
            Issue.record("accepted \(text)")
        } catch let error as GatewayError {
            #expect(error.param == param)
            #expect(error.status == .badRequest)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}
