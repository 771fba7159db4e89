import Foundation
import LLMLabProto
import SwiftProtobuf
import Testing
@testable import LLMLabTracing

@Suite("OTLP decoder")
struct OTLPDecoderTests {
    typealias F = OTLPFixtures

    /// A request with resource, scope, every AnyValue kind, events, status and kind.
    static func richRequest() -> ExportRequest {
        var span = F.span(traceID: F.traceID, spanID: F.spanID, parentSpanID: F.parentID, name: "chat gpt-4o")
        span.kind = .client
        span.startTimeUnixNano = 1_700_000_000_123_456_789
        span.endTimeUnixNano = 1_700_000_001_987_654_321
        span.flags = 0x301
        span.traceState = "vendor=x"
        span.attributes = [
            F.keyValue("s", .stringValue("text")),
            F.keyValue("b", .boolValue(true)),
            F.keyValue("i", .intValue(-9_007_199_254_740_993)),
            F.keyValue("d", .doubleValue(0.25)),
            F.keyValue("bytes", .bytesValue(Data([0, 1, 254, 255]))),
            F.keyValue("array", .arrayValue(.with {
                $0.values = [.with { $0.stringValue = "a" }, .with { $0.intValue = 2 }, PBAnyValue()]
            })),
            F.keyValue("map", .kvlistValue(.with {
                $0.values = [F.keyValue("nested", .boolValue(false)),
                             F.keyValue("deeper", .kvlistValue(.with { $0.values = [F.keyValue("x", .doubleValue(1.5))] }))]
            })),
            PBKeyValue.with { $0.key = "empty" },  // no value: dropped
        ]
        span.events = [.with {
            $0.name = "exception"
            $0.timeUnixNano = 1_700_000_001_000_000_000
            $0.attributes = [F.keyValue("exception.type", .stringValue("ValueError")),
                             F.keyValue("exception.message", .stringValue("boom"))]
        }]
        span.links = [.with { $0.traceID = F.bytes(hex: F.traceID); $0.spanID = F.bytes(hex: "0102030405060708") }]
        span.status = .with { $0.code = .error; $0.message = "upstream 500" }

        var root = F.span(traceID: F.traceID, spanID: F.parentID, name: "agent")
        root.kind = .server
        return ExportRequest.with {
            $0.resourceSpans = [.with {
                $0.resource = .with { $0.attributes = [F.keyValue("service.name", .stringValue("checkout")),
                                                      F.keyValue("service.instance.id", .intValue(7))] }
                $0.scopeSpans = [
                    .with {
                        $0.scope = .with { $0.name = "openinference.instrumentation.openai"; $0.version = "0.1.2" }
                        $0.spans = [span]
                    },
                    .with { $0.spans = [root] },  // no scope
                ]
            }]
        }
    }

    static let richExpected: [RawSpan] = {
        let resource: [String: AttributeValue] = ["service.name": .string("checkout"), "service.instance.id": .int(7)]
        return [
            RawSpan(traceID: F.traceID, spanID: F.spanID, parentSpanID: F.parentID, name: "chat gpt-4o", kind: 3,
                    startTimeUnixNano: 1_700_000_000_123_456_789, endTimeUnixNano: 1_700_000_001_987_654_321,
                    statusCode: 2, statusMessage: "upstream 500",
                    attributes: [
                        "s": .string("text"), "b": .bool(true), "i": .int(-9_007_199_254_740_993), "d": .double(0.25),
                        "bytes": .bytes([0, 1, 254, 255]),
                        "array": .array([.string("a"), .int(2)]),
                        "map": .map(["nested": .bool(false), "deeper": .map(["x": .double(1.5)])]),
                    ],
                    events: [RawSpanEvent(name: "exception", timeUnixNano: 1_700_000_001_000_000_000,
                                          attributes: ["exception.type": .string("ValueError"),
                                                       "exception.message": .string("boom")])],
                    resourceAttributes: resource,
                    scopeName: "openinference.instrumentation.openai", scopeVersion: "0.1.2"),
            RawSpan(traceID: F.traceID, spanID: F.parentID, parentSpanID: "", name: "agent", kind: 2,
                    startTimeUnixNano: 1, endTimeUnixNano: 2, resourceAttributes: resource),
        ]
    }()

    @Test("protobuf round trip: every AnyValue kind, events, status, resource and scope")
    func protobufRoundTrip() throws {
        let body: [UInt8] = try Self.richRequest().serializedBytes()
        let batch = try OTLPDecoder.decode(body, contentType: "application/x-protobuf", contentEncoding: nil)
        #expect(batch.format == .protobuf)
        #expect(batch.spans == Self.richExpected)
        #expect(batch.rejectedSpans == 0)
        #expect(batch.errorMessage == "")
    }

    @Test("the same request as OTLP/JSON written by SwiftProtobuf after hex rewriting decodes to the same spans")
    func jsonOfRichRequest() throws {
        // SwiftProtobuf writes ids as base64 (proto3 JSON): the decoder accepts base64 ids of
        // the right length as a leniency for generic proto3 JSON marshallers.
        let body: [UInt8] = try Self.richRequest().jsonUTF8Bytes()
        let batch = try OTLPDecoder.decode(body, contentType: "application/json", contentEncoding: nil)
        #expect(batch.spans == Self.richExpected)
    }

    @Test("gRPC path: RawSpans from an already-decoded request")
    func grpcHelper() {
        let batch = OTLPDecoder.batch(from: Self.richRequest())
        #expect(batch.spans == Self.richExpected)
        #expect(batch.rejectedSpans == 0)
    }

    @Test("OTLP/JSON: the specification's example (uppercase hex ids, integer kind, times as strings)")
    func specExample() throws {
        let batch = try OTLPDecoder.decode(Array(F.specExampleJSON.utf8), contentType: "application/json; charset=utf-8",
                                           contentEncoding: nil)
        #expect(batch.format == .json)
        #expect(batch.spans == [F.specExampleSpan])
        #expect(batch.rejectedSpans == 0)
    }

    @Test("OTLP/JSON: times and intValue as numbers or strings, every value kind, status, events, unknown fields")
    func jsonValueKinds() throws {
        let json = """
        {"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"svc"}}],
          "droppedAttributesCount":0,"entityRefs":[{"type":"service"}]},
          "scopeSpans":[{"scope":{"name":"lib","version":"2"},"schemaUrl":"https://opentelemetry.io/schemas/1.26.0",
          "spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",
            "parentSpanId":"eee19b7ec3c1b173","traceState":"","flags":257,"name":"llm","kind":3,
            "startTimeUnixNano":1544712660000000000,"endTimeUnixNano":"1544712661000000000",
            "attributes":[
              {"key":"str","value":{"stringValue":"v"}},
              {"key":"traceId","value":{"stringValue":"not an id"}},
              {"key":"bool","value":{"boolValue":true}},
              {"key":"int","value":{"intValue":"10"}},
              {"key":"intNumber","value":{"intValue":11}},
              {"key":"double","value":{"doubleValue":637.704}},
              {"key":"bytes","value":{"bytesValue":"AAH+/w=="}},
              {"key":"array","value":{"arrayValue":{"values":[{"stringValue":"foo"},{"intValue":"42"}]}}},
              {"key":"map","value":{"kvlistValue":{"values":[{"key":"k","value":{"boolValue":false}}]}}},
              {"key":"empty","value":{}}
            ],
            "droppedAttributesCount":0,
            "events":[{"timeUnixNano":"1544712660500000000","name":"exception",
              "attributes":[{"key":"exception.message","value":{"stringValue":"boom"}}]}],
            "links":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"0102030405060708","flags":1}],
            "status":{"code":2,"message":"failed"},
            "someFutureField":{"nested":[1,2,3]}}]}]}]}
        """
        let batch = try OTLPDecoder.decode(Array(json.utf8), contentType: "Application/JSON", contentEncoding: "identity")
        let expected = RawSpan(
            traceID: F.traceID, spanID: F.spanID, parentSpanID: F.parentID, name: "llm", kind: 3,
            startTimeUnixNano: 1_544_712_660_000_000_000, endTimeUnixNano: 1_544_712_661_000_000_000,
            statusCode: 2, statusMessage: "failed",
            attributes: [
                "str": .string("v"), "traceId": .string("not an id"), "bool": .bool(true), "int": .int(10),
                "intNumber": .int(11), "double": .double(637.704), "bytes": .bytes([0, 1, 254, 255]),
                "array": .array([.string("foo"), .int(42)]), "map": .map(["k": .bool(false)]),
            ],
            events: [RawSpanEvent(name: "exception", timeUnixNano: 1_544_712_660_500_000_000,
                                  attributes: ["exception.message": .string("boom")])],
            resourceAttributes: ["service.name": .string("svc")], scopeName: "lib", scopeVersion: "2")
        #expect(batch.spans == [expected])
        #expect(batch.rejectedSpans == 0)
    }

    @Test("OTLP/JSON: snake_case proto field names are accepted, ids still hex")
    func jsonSnakeCase() throws {
        let json = """
        {"resource_spans":[{"scope_spans":[{"spans":[{"trace_id":"5b8efff798038103d269b633813fc60c",
          "span_id":"eee19b7ec3c1b174","parent_span_id":"","name":"root","kind":1,
          "start_time_unix_nano":"5","end_time_unix_nano":"6"}]}]}]}
        """
        let batch = try OTLPDecoder.decode(Array(json.utf8), contentType: "application/json", contentEncoding: nil)
        #expect(batch.spans == [RawSpan(traceID: F.traceID, spanID: F.spanID, name: "root", kind: 1,
                                        startTimeUnixNano: 5, endTimeUnixNano: 6)])
    }

    @Test("gzip: protobuf and JSON bodies, Content-Encoding case-insensitive, concatenated members")
    func gzip() throws {
        let protobuf: [UInt8] = try Self.richRequest().serializedBytes()
        let fromProtobuf = try OTLPDecoder.decode(Zlib.gzip(protobuf), contentType: "application/x-protobuf",
                                                  contentEncoding: "gzip")
        #expect(fromProtobuf.spans == Self.richExpected)

        let json = Array(F.specExampleJSON.utf8)
        let fromJSON = try OTLPDecoder.decode(Zlib.gzip(json), contentType: "application/json", contentEncoding: " GZIP ")
        #expect(fromJSON.spans == [F.specExampleSpan])

        // Two gzip members of one protobuf body (protobuf concatenation merges repeated fields).
        let half: [UInt8] = try F.request([F.span(traceID: F.traceID, spanID: F.spanID)]).serializedBytes()
        let twoMembers = try OTLPDecoder.decode(Zlib.gzip(half) + Zlib.gzip(half), contentType: "application/x-protobuf",
                                                contentEncoding: "gzip")
        #expect(twoMembers.spans.count == 2)
    }

    @Test("invalid ids: spans rejected with count and reasons, valid spans in the same request kept")
    func invalidIDsProtobuf() throws {
        let valid = F.span(traceID: F.traceID, spanID: F.spanID, name: "ok")
        var zeroParent = F.span(traceID: F.traceID, spanID: "0000000000000001", name: "zero parent")
        zeroParent.parentSpanID = Data(count: 8)
        let request = F.request([
            F.span(traceID: "00000000000000000000000000000000", spanID: F.spanID, name: "zero trace"),
            valid,
            F.span(traceID: "5b8efff7", spanID: F.spanID, name: "short trace"),
            F.span(traceID: F.traceID, spanID: "0000000000000000", name: "zero span"),
            F.span(traceID: F.traceID, spanID: "eee19b7ec3c1b174ee", name: "long span"),
            F.span(traceID: F.traceID, spanID: F.spanID, parentSpanID: "0102", name: "short parent"),
            F.span(traceID: "00000000000000000000000000000000", spanID: F.spanID, name: "zero trace again"),
            zeroParent,
        ])
        let batch = try OTLPDecoder.decode(try request.serializedBytes(), contentType: "application/x-protobuf",
                                           contentEncoding: nil)
        #expect(batch.spans.map(\.name) == ["ok", "zero parent"])
        #expect(batch.spans[1].parentSpanID == "")
        #expect(batch.rejectedSpans == 6)
        #expect(batch.rejections == [
            OTLPRejection(reason: "invalid trace_id: all zeroes", count: 2, firstAt: "resource_spans[0].scope_spans[0].spans[0]"),
            OTLPRejection(reason: "invalid trace_id: must be 16 bytes (32 hex digits in OTLP/JSON)", count: 1,
                          firstAt: "resource_spans[0].scope_spans[0].spans[2]"),
            OTLPRejection(reason: "invalid span_id: all zeroes", count: 1, firstAt: "resource_spans[0].scope_spans[0].spans[3]"),
            OTLPRejection(reason: "invalid span_id: must be 8 bytes (16 hex digits in OTLP/JSON)", count: 1,
                          firstAt: "resource_spans[0].scope_spans[0].spans[4]"),
            OTLPRejection(reason: "invalid parent_span_id: must be empty or 8 bytes (16 hex digits in OTLP/JSON)", count: 1,
                          firstAt: "resource_spans[0].scope_spans[0].spans[5]"),
        ])
        #expect(batch.errorMessage.hasPrefix(
            "rejected 6 of 8 spans: invalid trace_id: all zeroes (2 spans, first at resource_spans[0].scope_spans[0].spans[0]); "))
    }

    @Test("invalid ids in OTLP/JSON: bad hex, wrong length, empty, missing, null → rejected, not a failed request")
    func invalidIDsJSON() throws {
        let json = """
        {"resourceSpans":[{"scopeSpans":[{"spans":[
          {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"ok"},
          {"traceId":"5b8efff798038103d269b633813fc60z","spanId":"eee19b7ec3c1b174","name":"bad hex"},
          {"traceId":"5b8efff798038103d269b633813fc60","spanId":"eee19b7ec3c1b174","name":"odd length"},
          {"traceId":"","spanId":"eee19b7ec3c1b174","name":"empty"},
          {"spanId":"eee19b7ec3c1b174","name":"missing"},
          {"traceId":null,"spanId":"eee19b7ec3c1b174","name":"null"},
          {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b17!","name":"bad span"},
          {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","parentSpanId":"xyz","name":"bad parent"},
          {"traceId":"W47/95gDgQPSabYzgT/GDA==","spanId":"7uGbfsPBsXQ=","name":"base64 ids"}
        ]}]}]}
        """
        let batch = try OTLPDecoder.decode(Array(json.utf8), contentType: "application/json", contentEncoding: nil)
        #expect(batch.spans.map(\.name) == ["ok", "base64 ids"])
        #expect(batch.spans.allSatisfy { $0.traceID == F.traceID && $0.spanID == F.spanID })
        #expect(batch.rejectedSpans == 7)
        #expect(batch.rejections.map(\.count) == [5, 1, 1])
        let response = OTLPResponse.encode(for: batch)
        let decoded = try ExportResponse(jsonUTF8Bytes: response)
        #expect(decoded.partialSuccess.rejectedSpans == 7)
        #expect(decoded.partialSuccess.errorMessage == batch.errorMessage)
    }

    @Test("unsupported media type and encoding → 415")
    func unsupported() {
        #expect(throws: OTLPDecodingError.unsupportedContentType("text/plain")) {
            try OTLPDecoder.decode([], contentType: "text/plain", contentEncoding: nil)
        }
        #expect(throws: OTLPDecodingError.unsupportedContentEncoding("br")) {
            try OTLPDecoder.decode([], contentType: "application/json", contentEncoding: "br")
        }
        #expect(OTLPDecodingError.unsupportedContentType("x").httpStatus == 415)
        #expect(OTLPFormat(contentType: " application/x-protobuf ;foo=bar") == .protobuf)
        #expect(OTLPFormat(contentType: "application/jsonx") == nil)
    }

    @Test("corrupt gzip, protobuf and JSON → 400 naming what is wrong")
    func corrupt() throws {
        let body: [UInt8] = try Self.richRequest().serializedBytes()
        let gzipped = Zlib.gzip(body)
        func error(_ body: [UInt8], _ type: String, _ encoding: String?) -> OTLPDecodingError? {
            do {
                _ = try OTLPDecoder.decode(body, contentType: type, contentEncoding: encoding)
                return nil
            } catch {
                return error
            }
        }
        let truncated = error(Array(gzipped.prefix(gzipped.count / 2)), "application/x-protobuf", "gzip")
        #expect(truncated == .corruptCompression("gzip: truncated stream"))
        let notGzip = error(Array("hello, not gzip".utf8), "application/x-protobuf", "gzip")
        guard case .corruptCompression(let detail) = notGzip else { Issue.record("expected corrupt gzip"); return }
        #expect(detail.hasPrefix("gzip: "))
        #expect(notGzip?.httpStatus == 400)
        #expect(error([], "application/json", "gzip") == .corruptCompression("gzip: empty body"))

        var flipped = gzipped
        flipped[flipped.count - 6] ^= 0xFF  // CRC32 of the trailer
        guard case .corruptCompression = error(flipped, "application/x-protobuf", "gzip") else {
            Issue.record("expected a CRC failure"); return
        }

        let badProtobuf = error(Array(body.prefix(body.count - 3)), "application/x-protobuf", nil)
        guard case .invalidProtobuf(let why) = badProtobuf else { Issue.record("expected invalid protobuf"); return }
        #expect(!why.isEmpty)
        #expect(badProtobuf?.description.contains("protobuf ExportTraceServiceRequest") == true)

        for json in ["{\"resourceSpans\": [", "not json", "", "{\"resourceSpans\":\"x\"}", "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"name\":5}]}]}]}"] {
            guard case .invalidJSON = error(Array(json.utf8), "application/json", nil) else {
                Issue.record("expected invalid JSON for \(json)"); continue
            }
        }
    }

    @Test("body limit applies after decompression → 413")
    func tooLarge() throws {
        let bomb = Zlib.gzip([UInt8](repeating: 0, count: 4 * 1024 * 1024))
        #expect(bomb.count < 10_000)
        #expect(throws: OTLPDecodingError.bodyTooLarge(limit: 1024 * 1024)) {
            try OTLPDecoder.decode(bomb, contentType: "application/x-protobuf", contentEncoding: "gzip",
                                   maxBodyBytes: 1024 * 1024)
        }
        #expect(throws: OTLPDecodingError.bodyTooLarge(limit: 10)) {
            try OTLPDecoder.decode(Array(F.specExampleJSON.utf8), contentType: "application/json", contentEncoding: nil,
                                   maxBodyBytes: 10)
        }
        #expect(OTLPDecodingError.bodyTooLarge(limit: 1).httpStatus == 413)
    }

    @Test("empty protobuf body is an empty export")
    func emptyProtobuf() throws {
        let batch = try OTLPDecoder.decode([], contentType: "application/x-protobuf", contentEncoding: nil)
        #expect(batch.spans.isEmpty && batch.rejectedSpans == 0)
        #expect(try OTLPDecoder.decode(Array("{}".utf8), contentType: "application/json", contentEncoding: nil).spans.isEmpty)
    }
}

@Suite("OTLP response")
struct OTLPResponseTests {
    @Test("full success: empty message in both formats")
    func success() throws {
        #expect(OTLPResponse.encode(rejectedSpans: 0, errorMessage: "", as: .protobuf) == [])
        #expect(String(decoding: OTLPResponse.encode(rejectedSpans: 0, errorMessage: "", as: .json), as: UTF8.self) == "{}")
        #expect(!OTLPResponse.message(rejectedSpans: 0, errorMessage: "").hasPartialSuccess)
    }

    @Test("partial success: proto3 JSON with the int64 count as a string; protobuf decodes back")
    func partial() throws {
        let json = OTLPResponse.encode(rejectedSpans: 2, errorMessage: "invalid span_id: all zeroes", as: .json)
        #expect(String(decoding: json, as: UTF8.self)
            == #"{"partialSuccess":{"rejectedSpans":"2","errorMessage":"invalid span_id: all zeroes"}}"#)

        let protobuf = OTLPResponse.encode(rejectedSpans: 2, errorMessage: "invalid span_id: all zeroes", as: .protobuf)
        let decoded = try ExportResponse(serializedBytes: protobuf)
        #expect(decoded.partialSuccess.rejectedSpans == 2)
        #expect(decoded.partialSuccess.errorMessage == "invalid span_id: all zeroes")
        // Field 1 (partial_success, length-delimited) holding field 1 (varint 2) and field 2 (string).
        #expect(Array(protobuf.prefix(4)) == [0x0A, 0x1F, 0x08, 0x02])
    }

    @Test("the response follows the request's format")
    func matchesRequest() throws {
        let batch = OTLPBatch(format: .json, spans: [], rejectedSpans: 1,
                              rejections: [OTLPRejection(reason: "invalid trace_id: all zeroes", count: 1,
                                                         firstAt: "resource_spans[0].scope_spans[0].spans[0]")])
        #expect(String(decoding: OTLPResponse.encode(for: batch), as: UTF8.self) ==
            #"{"partialSuccess":{"rejectedSpans":"1","errorMessage":"rejected 1 of 1 span: invalid trace_id: all zeroes (1 span, first at resource_spans[0].scope_spans[0].spans[0])"}}"#)
        #expect(OTLPFormat.json.contentType == "application/json")
        #expect(OTLPFormat.protobuf.contentType == "application/x-protobuf")
    }
}
