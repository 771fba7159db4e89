/// SVG charts drawn on the server: no script, no external library, no inline style (the
/// CSP forbids it). Floats are used for geometry only; every figure a person reads is
/// printed from the exact decimal strings.
enum Charts {
    /// The palette of stacked series, in order (also in app.css as `.s0`…`.s9`).
    static let seriesCount = 10

    /// Month-to-date spend against the budget and the forecast range: a bar for spend, a
    /// band for the forecast's low–high, a tick for the projection and one for the budget.
    static func budgetBar(monthToDate: Double, projected: Double, low: Double, high: Double, budget: Double?, testID: String) -> HTML {
        let scale = max(budget ?? 0, high, projected, monthToDate, 0.000001) * 1.05
        func x(_ value: Double) -> Double { min(300, max(0, value / scale * 300)) }
        var parts: HTML = "<rect class=\"track\" x=\"0\" y=\"4\" width=\"300\" height=\"12\" rx=\"3\"/>"
        parts += "<rect class=\"range\" x=\"\(geometry: x(low))\" y=\"4\" width=\"\(geometry: max(1, x(high) - x(low)))\" height=\"12\"/>"
        let over = budget.map { monthToDate > $0 } ?? false
        parts += "<rect class=\"spent\(over ? " over" : "")\" x=\"0\" y=\"4\" width=\"\(geometry: x(monthToDate))\" height=\"12\" rx=\"3\"/>"
        parts += "<line class=\"projected\" x1=\"\(geometry: x(projected))\" x2=\"\(geometry: x(projected))\" y1=\"1\" y2=\"19\"/>"
        if let budget {
            parts += "<line class=\"budget\" x1=\"\(geometry: x(budget))\" x2=\"\(geometry: x(budget))\" y1=\"0\" y2=\"20\"/>"
        }
        return """
        <svg class="budget-bar" data-testid="\(testID)" viewBox="0 0 300 20" width="300" height="20" role="img" \
        aria-label="spend against budget">\(parts)</svg>
        """
    }

    struct Series: Sendable {
        var label: String
        /// One value per bucket (geometry only).
        var values: [Double]
    }

    /// A stacked bar chart: one bar per bucket, one colour per series, a legend, and a
    /// `<title>` per segment (escaped) so hovering names the series and amount.
    static func stackedBars(buckets: [String], series: [Series], amounts: [[String]], testID: String) -> HTML {
        let width = 960.0, height = 260.0, left = 56.0, bottom = 28.0, top = 10.0
        let plotHeight = height - bottom - top, plotWidth = width - left - 8
        var totals = Array(repeating: 0.0, count: buckets.count)
        for line in series { for (index, value) in line.values.enumerated() where index < totals.count { totals[index] += value } }
        let maxTotal = niceCeiling(totals.max() ?? 0)
        let slot = buckets.isEmpty ? plotWidth : plotWidth / Double(buckets.count)
        let barWidth = max(1, slot * 0.72)
        var body: HTML = .empty
        // Gridlines and y labels at quarters.
        for step in 0...4 {
            let value = maxTotal * Double(step) / 4
            let y = top + plotHeight - plotHeight * Double(step) / 4
            body += "<line class=\"grid\" x1=\"\(geometry: left)\" x2=\"\(geometry: width - 8)\" y1=\"\(geometry: y)\" y2=\"\(geometry: y)\"/>"
            body += "<text class=\"axis\" x=\"\(geometry: left - 6)\" y=\"\(geometry: y + 4)\" text-anchor=\"end\">$\(axisLabel(value))</text>"
        }
        let labelEvery = max(1, Int((Double(buckets.count) / 12).rounded(.up)))
        for (index, bucket) in buckets.enumerated() {
            let x = left + Double(index) * slot + (slot - barWidth) / 2
            var y = top + plotHeight
            for (seriesIndex, line) in series.enumerated() {
                let value = index < line.values.count ? line.values[index] : 0
                guard value > 0, maxTotal > 0 else { continue }
                let h = value / maxTotal * plotHeight
                y -= h
                let amount = seriesIndex < amounts.count && index < amounts[seriesIndex].count ? amounts[seriesIndex][index] : ""
                body += """
                <rect class="s\(seriesIndex % seriesCount)" x="\(geometry: x)" y="\(geometry: y)" width="\(geometry: barWidth)" \
                height="\(geometry: max(h, 0.5))"><title>\(bucket) · \(line.label) · \(Money.cents(amount)) ($\(amount))</title></rect>
                """
            }
            if index % labelEvery == 0 {
                body += "<text class=\"axis\" x=\"\(geometry: x + barWidth / 2)\" y=\"\(geometry: height - 8)\" text-anchor=\"middle\">\(bucket)</text>"
            }
        }
        let legend = series.enumerated().map { index, line -> HTML in
            "<li><svg width=\"10\" height=\"10\" aria-hidden=\"true\"><rect class=\"s\(index % seriesCount)\" width=\"10\" height=\"10\"/></svg> \(line.label)</li>"
        }
        return """
        <figure class="chart" data-testid="\(testID)" id="\(testID)"><svg viewBox="0 0 \(geometry: width) \(geometry: height)" \
        role="img" aria-label="spend over time">\(body)</svg><ul class="legend">\(legend)</ul></figure>
        """
    }

    /// A round number at or above `value` for the y axis (1, 2, 2.5, 5 × 10^n).
    static func niceCeiling(_ value: Double) -> Double {
        guard value > 0 else { return 1 }
        let magnitude = pow10(log10(value))
        for step in [1.0, 2.0, 2.5, 5.0, 10.0] where step * magnitude >= value { return step * magnitude }
        return 10 * magnitude
    }

    private static func pow10(_ exponent: Double) -> Double {
        var result = 1.0
        if exponent >= 0 { for _ in 0..<Int(exponent) { result *= 10 } } else { for _ in 0..<Int(-exponent) { result /= 10 } }
        return result
    }

    private static func log10(_ value: Double) -> Double {
        var exponent = 0.0, v = value
        while v >= 10 { v /= 10; exponent += 1 }
        while v < 1 { v *= 10; exponent -= 1 }
        return exponent
    }

    static func axisLabel(_ value: Double) -> String {
        if value >= 1000 { return Escape.number((value / 100).rounded() / 10) + "k" }
        if value >= 1 { return Escape.number(value) }
        if value == 0 { return "0" }
        return String((value * 10_000).rounded() / 10_000)
    }
}
