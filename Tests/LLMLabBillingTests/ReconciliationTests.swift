import LLMLabBilling
import Testing

@Suite("Reconciliation math")
struct ReconciliationTests {
    static let d1 = BillingDay.parse("2026-03-01")!
    static let d2 = BillingDay.parse("2026-03-02")!

    static func billed(_ provider: String, _ day: BillingDay, _ model: String, _ amount: String, item: String = "x") -> BilledLine {
        BilledLine(provider: provider, day: day, model: model, lineItem: item, amountUSD: amount)
    }

    @Test("rows per provider, day and model; one-sided rows; exact differences; totals")
    func rows() throws {
        let tracked = [
            TrackedCost(provider: "openai", day: Self.d1, model: "gpt-4o-2024-08-06", amountUSD: "9.5"),
            TrackedCost(provider: "openai", day: Self.d1, model: "gpt-4o", amountUSD: "0.5"),
            TrackedCost(provider: "openai", day: Self.d2, model: "gpt-4o-mini", amountUSD: "0.1"),
            TrackedCost(provider: "anthropic", day: Self.d1, model: "claude-sonnet-4-5", amountUSD: "3"),
        ]
        let billed = [
            Self.billed("openai", Self.d1, "gpt-4o", "10.3", item: "gpt-4o, input"),
            Self.billed("openai", Self.d1, "gpt-4o", "0.2", item: "gpt-4o, output"),
            Self.billed("openai", Self.d2, "", "0.4"),
            Self.billed("anthropic", Self.d1, "claude-sonnet-4-5", "3.1"),
        ]
        let result = Reconciliation.compute(tracked: tracked, billed: billed)
        #expect(result.rows.map { "\($0.provider) \($0.day!) \($0.model)" } == [
            "anthropic 2026-03-01 claude-sonnet-4-5", "openai 2026-03-01 gpt-4o", "openai 2026-03-02 ", "openai 2026-03-02 gpt-4o-mini",
        ])
        let claude = result.rows[0]
        #expect(claude.trackedUSD == "3" && claude.billedUSD == "3.1" && claude.differenceUSD == "0.1")
        #expect(claude.differencePercent == "3.23" && !claude.flagged && claude.side == .both)
        let gpt = result.rows[1]
        #expect(gpt.trackedUSD == "10" && gpt.billedUSD == "10.5" && gpt.differenceUSD == "0.5")
        #expect(gpt.differencePercent == "4.76" && !gpt.flagged)
        let unattributed = result.rows[2]
        #expect(unattributed.side == .billedOnly && unattributed.trackedUSD == "0" && unattributed.differencePercent == "100.00")
        #expect(unattributed.flagged)
        let mini = result.rows[3]
        #expect(mini.side == .trackedOnly && mini.billedUSD == "0" && mini.differenceUSD == "-0.1")
        #expect(mini.differencePercent == nil && mini.flagged)
        #expect(result.totals.map(\.provider) == ["anthropic", "openai"])
        let openai = result.totals[1]
        #expect(openai.trackedUSD == "10.1" && openai.billedUSD == "10.9" && openai.differenceUSD == "0.8")
        #expect(openai.differencePercent == "7.34" && openai.flagged && openai.side == .both && openai.day == nil)
    }

    @Test("thresholds: percent is strict, the minimum is inclusive, both must hold")
    func thresholds() throws {
        func row(tracked: String, billed: String, percent: String = "", minimum: String = "") throws -> ReconciliationRow {
            let threshold = try ReconciliationThreshold.parse(percent: percent, minimumUSD: minimum)
            return Reconciliation.compute(tracked: [TrackedCost(provider: "openai", day: Self.d1, model: "gpt-4o", amountUSD: tracked)],
                                          billed: [Self.billed("openai", Self.d1, "gpt-4o", billed)], threshold: threshold).rows[0]
        }
        // Exactly 5 % is not over 5 %.
        #expect(try !row(tracked: "95", billed: "100").flagged)
        #expect(try row(tracked: "94.99", billed: "100").flagged)
        // 50 % off, but under a cent.
        #expect(try !row(tracked: "0.005", billed: "0.01").flagged)
        #expect(try row(tracked: "0", billed: "0.01").flagged)
        #expect(try !row(tracked: "0", billed: "0.01", minimum: "0.02").flagged)
        #expect(try row(tracked: "99", billed: "100", percent: "0.5").flagged)
        #expect(try !row(tracked: "99", billed: "100", percent: "1").flagged)
        // Over-tracking flags too; the sign shows which way.
        let over = try row(tracked: "110", billed: "100")
        #expect(over.flagged && over.differenceUSD == "-10" && over.differencePercent == "-10.00")
        #expect(try row(tracked: "1", billed: "1").differencePercent == "0.00")
        // Percent rounds half away from zero at two decimals: 1/3 → 33.33, 2/3 → 66.67.
        #expect(try row(tracked: "2", billed: "3").differencePercent == "33.33")
        #expect(try row(tracked: "1", billed: "3").differencePercent == "66.67")
        #expect(throws: (any Error).self) { try ReconciliationThreshold.parse(percent: "-1", minimumUSD: "") }
        #expect(throws: (any Error).self) { try ReconciliationThreshold.parse(percent: "five", minimumUSD: "") }
        #expect(throws: (any Error).self) { try ReconciliationThreshold.parse(percent: "", minimumUSD: "1e2") }
        #expect(ReconciliationThreshold.defaults.percent == "5" && ReconciliationThreshold.defaults.minimumUSD == "0.01")
    }

    @Test("tiny amounts and large ones stay exact")
    func exactness() {
        let result = Reconciliation.compute(
            tracked: [TrackedCost(provider: "openai", day: Self.d1, model: "gpt-4o", amountUSD: "123456789.000000000001")],
            billed: [Self.billed("openai", Self.d1, "gpt-4o", "123456789.000000000002")])
        #expect(result.rows[0].differenceUSD == "0.000000000001")
        #expect(result.rows[0].differencePercent == "0.00" && !result.rows[0].flagged)
    }
}
