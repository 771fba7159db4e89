import Foundation
import LLMLabProto
import LLMLabTracing
import SwiftProtobuf

typealias ExportRequest = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest
typealias ExportResponse = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceResponse
typealias PBSpan = Opentelemetry_Proto_Trace_V1_Span
typealias PBKeyValue = Opentelemetry_Proto_Common_V1_KeyValue
typealias PBAnyValue = Opentelemetry_Proto_Common_V1_AnyValue

enum OTLPFixtures {
    static func bytes(hex: String) -> Data {
        var data = Data()
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            data.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return data
    }

    static func keyValue(_ key: String, _ value: PBAnyValue.OneOf_Value) -> PBKeyValue {
        PBKeyValue.with {
            $0.key = key
            $0.value = PBAnyValue.with { $0.value = value }
        }
    }

    static func span(traceID: String, spanID: String, parentSpanID: String = "", name: String = "span") -> PBSpan {
        PBSpan.with {
            $0.traceID = bytes(hex: traceID)
            $0.spanID = bytes(hex: spanID)
            $0.parentSpanID = bytes(hex: parentSpanID)
            $0.name = name
            $0.kind = .internal
            $0.startTimeUnixNano = 1
            $0.endTimeUnixNano = 2
        }
    }

    static func request(_ spans: [PBSpan]) -> ExportRequest {
        ExportRequest.with {
            $0.resourceSpans = [.with { $0.scopeSpans = [.with { $0.spans = spans }] }]
        }
    }

    static let traceID = "5b8efff798038103d269b633813fc60c"
    static let spanID = "eee19b7ec3c1b174"
    static let parentID = "eee19b7ec3c1b173"

    /// The OTLP/JSON example of the specification (opentelemetry-proto `examples/trace.json`):
    /// uppercase hex ids, `kind` as an integer, 64-bit times as strings.
    static let specExampleJSON = """
    {
      "resourceSpans": [
        {
          "resource": {
            "attributes": [
              {
                "key": "service.name",
                "value": {
                  "stringValue": "my.service"
                }
              }
            ]
          },
          "scopeSpans": [
            {
              "scope": {
                "name": "my.library",
                "version": "1.0.0",
                "attributes": [
                  {
                    "key": "my.scope.attribute",
                    "value": {
                      "stringValue": "some scope attribute"
                    }
                  }
                ]
              },
              "spans": [
                {
                  "traceId": "5B8EFFF798038103D269B633813FC60C",
                  "spanId": "EEE19B7EC3C1B174",
                  "parentSpanId": "EEE19B7EC3C1B173",
                  "name": "I'm a server span",
                  "startTimeUnixNano": "1544712660000000000",
                  "endTimeUnixNano": "1544712661000000000",
                  "kind": 2,
                  "attributes": [
                    {
                      "key": "my.span.attr",
                      "value": {
                        "stringValue": "some value"
                      }
                    }
                  ]
                }
              ]
            }
          ]
        }
      ]
    }
    """

    static let specExampleSpan = RawSpanExpectation.span(
        name: "I'm a server span", kind: 2,
        start: 1_544_712_660_000_000_000, end: 1_544_712_661_000_000_000,
        attributes: ["my.span.attr": .string("some value")],
        resource: ["service.name": .string("my.service")],
        scope: ("my.library", "1.0.0")
    )
}

enum RawSpanExpectation {
    static func span(name: String, kind: Int, start: UInt64, end: UInt64, attributes: [String: AttributeValue],
                     resource: [String: AttributeValue], scope: (String, String)) -> RawSpan {
        RawSpan(traceID: OTLPFixtures.traceID, spanID: OTLPFixtures.spanID, parentSpanID: OTLPFixtures.parentID,
                name: name, kind: kind, startTimeUnixNano: start, endTimeUnixNano: end,
                attributes: attributes, resourceAttributes: resource, scopeName: scope.0, scopeVersion: scope.1)
    }
}
