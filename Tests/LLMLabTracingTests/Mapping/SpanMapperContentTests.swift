import Foundation
@testable import LLMLabTracing
import Testing

@Suite("Span mapping: content capture and JSON documents")
struct SpanMapperContentTests {
    let mapper = SpanMapper()

    func object(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    func array(_ text: String) throws -> [[String: Any]] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]])
    }

    @Test("content capture off: no prompt, completion or message event content anywhere")
    func dropped() throws {
        let span = mapper.map([SpanFixtures.openAIChatCurrent], tenant: SpanFixtures.tenant, overrides: [])[0]
        #expect(span.contentJSON == "")
        for text in [span.attributesJSON, span.eventsJSON] {
            #expect(!text.contains("Weather in Paris"))
            #expect(!text.contains("Rainy"))
            #expect(!text.contains("weather bot"))
        }
        let attributes = try object(span.attributesJSON)
        #expect(attributes["gen_ai.input.messages"] == nil)
        #expect(attributes["gen_ai.request.model"] as? String == "o4-mini")
        #expect(attributes["gen_ai.usage.input_tokens"] as? Int == 1200)
        #expect(attributes["service.name"] as? String == "support-bot")
        let events = try array(span.eventsJSON)
        #expect(events.count == 1)
        #expect(events[0]["name"] as? String == "gen_ai.user.message")
        #expect(events[0]["time_unix_nano"] as? String == String(SpanFixtures.june2025 + 1))
        #expect((events[0]["attributes"] as? [String: Any])?["gen_ai.system"] as? String == "openai")
    }

    @Test("content capture on: input, output and instructions in contentJSON; attributes kept too")
    func captured() throws {
        let span = mapper.map([SpanFixtures.openAIChatCurrent], tenant: SpanFixtures.capturingTenant, overrides: [])[0]
        let content = try object(span.contentJSON)
        let input = try #require(content["input"] as? [[String: Any]])
        #expect(input.first?["role"] as? String == "user")
        #expect(content["output"] is [[String: Any]])
        #expect(content["system_instructions"] is [[String: Any]])
        #expect((content["events"] as? [[String: Any]])?.count == 1)
        #expect(span.attributesJSON.contains("Weather in Paris"))
        #expect(span.eventsJSON.contains("Weather in Paris"))
    }

    @Test("OpenInference, Pydantic AI and OpenLLMetry content keys are dropped without capture")
    func droppedAcrossConventions() throws {
        let spans = mapper.map([SpanFixtures.openInferenceLLM, SpanFixtures.openInferenceTool, SpanFixtures.pydanticAgentRun,
                                SpanFixtures.pydanticChat, SpanFixtures.pydanticRunningTool, SpanFixtures.pydanticExecuteTool,
                                SpanFixtures.openAIChatOld],
                               tenant: SpanFixtures.tenant, overrides: [])
        for span in spans {
            let attributes = try object(span.attributesJSON)
            for key in attributes.keys {
                #expect(!SpanContentPolicy.isContent(key), "\(span.name): \(key)")
            }
            for secret in ["password", "Paris", "refund", "Summarise", "rainy"] {
                #expect(!span.attributesJSON.contains(secret), "\(span.name) leaks \(secret)")
            }
            #expect(span.contentJSON == "")
        }
        // What is not content stays.
        let oi = try object(spans[0].attributesJSON)
        #expect(oi["llm.token_count.prompt"] as? Int == 2000)
        #expect(oi["llm.invocation_parameters"] != nil)
        #expect(try object(spans[3].attributesJSON)["model_request_parameters"] != nil)
    }

    @Test("captured tool spans: tool_arguments and tool_result from both Pydantic AI formats and OpenInference")
    func toolContent() throws {
        let spans = mapper.map([SpanFixtures.pydanticRunningTool, SpanFixtures.pydanticExecuteTool, SpanFixtures.openInferenceTool],
                               tenant: SpanFixtures.capturingTenant, overrides: [])
        for span in spans.prefix(2) {
            let content = try object(span.contentJSON)
            #expect((content["tool_arguments"] as? [String: Any])?["city"] as? String == "Paris")
            #expect(content["tool_result"] as? String == "rainy, 57°F")
        }
        let oi = try object(spans[2].contentJSON)
        #expect((oi["input"] as? [String: Any])?["query"] as? String == "reset password")
        #expect(oi["output"] as? String == "Article 12: Resetting your password")
    }

    @Test("captured OpenInference LLM span: flattened messages not chosen for a slot land under other")
    func openInferenceCaptured() throws {
        let span = mapper.map([SpanFixtures.openInferenceLLM], tenant: SpanFixtures.capturingTenant, overrides: [])[0]
        let content = try object(span.contentJSON)
        #expect(content["input"] != nil)
        #expect(content["output"] as? String == "Open Settings, then Security.")
        let other = try #require(content["other"] as? [String: Any])
        #expect(other["llm.input_messages.0.message.content"] as? String == "How do I reset my password?")
    }

    @Test("each JSON text is capped at 64 KiB and stays valid JSON")
    func capped() throws {
        let huge = String(repeating: "é", count: 100_000) // 200 KB of UTF-8
        var raw = SpanFixtures.openInferenceChain
        for index in 0..<8 { raw.attributes["custom.blob.\(index)"] = .string(huge) }
        raw.attributes["input.value"] = .string(huge)
        raw.events = (0..<40).map { RawSpanEvent(name: "log", timeUnixNano: UInt64($0), attributes: ["message": .string(huge)]) }
        let span = mapper.map([raw], tenant: SpanFixtures.capturingTenant, overrides: [])[0]
        for text in [span.attributesJSON, span.eventsJSON, span.contentJSON] {
            #expect(text.utf8.count <= SpanJSONWriter.maxDocumentBytes)
            #expect((try? JSONSerialization.jsonObject(with: Data(text.utf8))) != nil)
        }
        let attributes = try object(span.attributesJSON)
        #expect(attributes["openinference.span.kind"] as? String == "CHAIN")
        #expect((attributes["custom.blob.0"] as? String)?.contains("truncated") == true
                || (attributes["custom.blob.0"] as? String)?.contains("dropped") == true)
        let events = try array(span.eventsJSON)
        #expect(events.last?["name"] as? String == "llmlab.truncated")
    }

    @Test("JSON strings escape control characters and quotes")
    func escaping() throws {
        let raw = SpanFixtures.span("x", attributes: ["weird": .string("a\"b\\c\n\u{01}\u{2028}"), "n": .double(.infinity),
                                                      "list": .array([.int(1), .bool(true), .bytes([0xff])])])
        let span = mapper.map([raw], tenant: SpanFixtures.tenant, overrides: [])[0]
        let attributes = try object(span.attributesJSON)
        #expect(attributes["weird"] as? String == "a\"b\\c\n\u{01}\u{2028}")
        #expect(attributes["n"] as? String == "inf")
        #expect((attributes["list"] as? [Any])?.count == 3)
    }
}
