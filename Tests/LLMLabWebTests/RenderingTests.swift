import Foundation
@testable import LLMLabWeb
import LLMLabProto
import SwiftProtobuf
import Testing

/// The small pieces every page relies on: escaping, money display without floating point,
/// form decoding, CSRF tokens.
@Suite("Dashboard rendering")
struct RenderingTests {
    @Test("interpolated strings are escaped; HTML values are not")
    func escaping() {
        let hostile = "<script>alert('x')</script> & \"quoted\""
        let html: HTML = "<td title=\"\(hostile)\">\(hostile)</td>"
        #expect(html.description == "<td title=\"&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quoted&quot;\">"
                + "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quoted&quot;</td>")
        let inner: HTML = "<b>\("<i>")</b>"
        #expect(HTML("<p>\(inner)</p>").description == "<p><b>&lt;i&gt;</b></p>")
        #expect(Escape.query("a b&c=d/é") == "a%20b%26c%3Dd%2F%C3%A9")
        #expect(Escape.queryString([("since", "7d"), ("model", ""), ("name", "x y")]) == "?since=7d&name=x%20y")
    }

    @Test("dollar amounts: exact decimal strings rounded half up to the cent, grouped, never via Double")
    func money() {
        #expect(Money.cents("2.6375") == "$2.64")
        #expect(Money.cents("2.6349999") == "$2.63")
        #expect(Money.cents("1234567.005") == "$1,234,567.01")
        #expect(Money.cents("9.995") == "$10.00")
        #expect(Money.cents("999.999") == "$1,000.00")
        #expect(Money.cents("0") == "$0.00")
        #expect(Money.cents("0.0021") == "$0.0021")
        #expect(Money.cents("0.000939600") == "$0.0009396")
        #expect(Money.cents("0.00000012345678") == "$0.0000001234")
        #expect(Money.cents("-0.004") == "-$0.004")
        #expect(Money.cents("0.005") == "$0.01")
        #expect(Money.cents("-3.5") == "-$3.50")
        #expect(Money.cents("") == "—")
        #expect(Money.cents("12") == "$12.00")
        #expect(Money.cents("0.1") == "$0.10")
        // Beyond Double's precision: still exact.
        #expect(Money.cents("90071992547409930.125") == "$90,071,992,547,409,930.13")
        #expect(Money.html("1.5", id: "x").description.contains("title=\"$1.5\" data-usd=\"1.5\">$1.50<"))
        #expect(DecimalSum.sum(["0.0125", "0.0125", "0.0125", "2.5", "0.1", ""]) == "2.6375")
        #expect(Money.count(1_234_567) == "1,234,567")
    }

    @Test("UTC dates without formatters")
    func dates() {
        #expect(UTCTime.second(Date(timeIntervalSince1970: 0)) == "1970-01-01 00:00:00")
        #expect(UTCTime.iso(Date(timeIntervalSince1970: 1_709_373_600)) == "2024-03-02T10:00:00Z")
        #expect(UTCTime.minute(Date(timeIntervalSince1970: 951_825_599)) == "2000-02-29 11:59")
        #expect(UTCTime.day(Date(timeIntervalSince1970: -86_400)) == "1969-12-31")
        #expect(UTCTime.duration(microseconds: 850) == "850 µs" && UTCTime.duration(microseconds: 3_200_000) == "3.2 s")
        #expect(UTCTime.duration(microseconds: 124_000_000) == "2 min 4 s")
    }

    @Test("form bodies: plus, percent escapes, repeated names, bad escapes kept")
    func forms() {
        let form = FormData("name=Made+%3Chere%3E&scopes=control&scopes=proxy&empty=&bad=%zz%4&_csrf=abc")
        #expect(form["name"] == "Made <here>")
        #expect(form.all("scopes") == ["control", "proxy"])
        #expect(form["empty"] == "" && form.raw("empty") == "" && form.raw("missing") == nil)
        #expect(form["bad"] == "%zz%4")
        #expect(form["_csrf"] == "abc")
    }

    @Test("CSRF tokens are bound to the session and to the process key")
    func csrf() {
        let protection = CSRFProtection(keyBytes: Array(repeating: 7, count: 32))
        let token = protection.token(forSession: "lls_one")
        #expect(protection.verify(token, session: "lls_one"))
        #expect(!protection.verify(token, session: "lls_two"))
        #expect(!protection.verify(nil, session: "lls_one") && !protection.verify("", session: "lls_one"))
        #expect(!CSRFProtection(keyBytes: Array(repeating: 8, count: 32)).verify(token, session: "lls_one"))
        let value = CSRFProtection.randomValue()
        #expect(CSRFProtection.verifyDoubleSubmit(field: value, cookie: value))
        #expect(!CSRFProtection.verifyDoubleSubmit(field: value, cookie: CSRFProtection.randomValue()))
        #expect(!CSRFProtection.verifyDoubleSubmit(field: "short", cookie: "short"))
    }

    @Test("chart: one rect per non-zero segment, labels escaped, geometry finite")
    func chart() {
        let svg = Charts.stackedBars(buckets: ["11-28", "11-29"],
                                     series: [.init(label: "<m>", values: [1, 0]), .init(label: "n", values: [0.5, 2])],
                                     amounts: [["1", "0"], ["0.5", "2"]], testID: "c").description
        #expect(svg.components(separatedBy: "<rect class=\"s").count - 1 == 3 + 2)  // three segments, two legend swatches
        #expect(svg.contains("&lt;m&gt;") && !svg.contains("<m>"))
        #expect(!svg.contains("nan") && !svg.contains("inf"))
        #expect(Charts.niceCeiling(2.6375) == 5 && Charts.niceCeiling(0.03) == 0.05 && Charts.niceCeiling(100) == 100)
    }
    @Test("the largest answers render without blowing up: 10 000 cost groups, a 5 000-span waterfall")
    func largePages() {
        let clock = ContinuousClock()
        let options = CostOptions(FormData("range=7d&granularity=hour&by=key"))
        let keys = (0..<59).map { index in Llmlab_V1_ApiKey.with { $0.id = "key-\(index)"; $0.name = "key \(index)"; $0.prefix = "llk_\(index)" } }
        var series = Llmlab_V1_QueryCostResponse()
        for (index, bucket) in options.buckets.prefix(168).enumerated() {
            for key in keys {
                series.groups.append(.with {
                    $0.hour = Google_Protobuf_Timestamp(date: bucket)
                    $0.apiKeyID = key.id
                    $0.totals = .with { $0.costUsd = "0.00\(index % 10)1"; $0.requests = 3 }
                })
            }
        }
        series.total.costUsd = "123.45"
        let started = clock.now
        let cost = CostView(options: options, series: series, topModels: [], topRoutes: [], topKeys: [], projects: [], keys: keys).render()
        #expect(cost.description.contains("id=\"cost-chart\""))
        var trace = Llmlab_V1_GetTraceResponse()
        trace.summary.durationUs = 5_000_000
        trace.spans = (0..<5_000).map { index in
            .with {
                $0.spanID = String(format: "%016x", index)
                $0.name = "step \(index)"
                $0.offsetUs = Int64(index) * 1000
                $0.durationUs = 900
                $0.depth = Int32(index % 7)
            }
        }
        let waterfall = TraceDetailView(trace: trace, explanation: .init()).render()
        #expect(waterfall.description.components(separatedBy: "data-testid=\"waterfall-row\"").count - 1 == 5_000)
        #expect(clock.now - started < .seconds(10))
    }
}
