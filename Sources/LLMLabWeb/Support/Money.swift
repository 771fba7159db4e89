/// Dollar amounts as people read them, computed from the exact decimal strings the
/// control plane returns ("2.1", "0.000123456789") without floating point: rounded half
/// up to the cent for display, with the exact value kept for a `title` attribute.
enum Money {
    /// "$1,234.57" from "1234.5678"; an amount under half a cent (typical of one LLM call)
    /// with its first four significant digits ("$0.0009396" from "0.000939600", never
    /// "$0.00");
    /// "—" for "" (no amount); the input itself, escaped by the caller, when it is not a
    /// plain decimal.
    static func cents(_ decimal: String) -> String {
        guard !decimal.isEmpty else { return "—" }
        guard let (negative, whole, fraction) = parse(decimal) else { return decimal }
        var digits = Array(whole.isEmpty ? "0" : whole)
        var cents = Array((fraction + "00").prefix(2))
        let roundUp = fraction.count > 2 && fraction[fraction.index(fraction.startIndex, offsetBy: 2)] >= "5"
        if roundUp {
            // Add one cent, carrying through the cents and then the whole part.
            var carry = true
            for index in cents.indices.reversed() where carry {
                if cents[index] == "9" { cents[index] = "0" } else { cents[index] = Character(String(cents[index].wholeNumberValue! + 1)); carry = false }
            }
            if carry {
                var index = digits.count - 1
                while carry {
                    if index < 0 { digits.insert("1", at: 0); carry = false; break }
                    if digits[index] == "9" { digits[index] = "0"; index -= 1 } else {
                        digits[index] = Character(String(digits[index].wholeNumberValue! + 1)); carry = false
                    }
                }
            }
        }
        while digits.count > 1 && digits.first == "0" { digits.removeFirst() }
        let isZero = digits == ["0"] && cents == ["0", "0"]
        // A real but sub-cent amount (typical of one LLM call) is not shown as $0.00.
        if isZero, let first = fraction.firstIndex(where: { $0 != "0" }) {
            var shown = String(fraction[..<first]) + fraction[first...].prefix(4)
            while shown.hasSuffix("0") { shown.removeLast() }
            return (negative ? "-$0." : "$0.") + shown
        }
        return (negative && !isZero ? "-$" : "$") + grouped(String(digits)) + "." + String(cents)
    }

    /// An `<span class="usd">` with the rounded amount and the exact one as its title.
    static func html(_ decimal: String, id: String? = nil) -> HTML {
        let idAttribute: HTML = id.map { HTML(" id=\"\($0)\" data-testid=\"\($0)\"") } ?? .empty
        let exact = decimal.isEmpty ? "no amount" : "$" + decimal
        return HTML("<span class=\"usd\"\(idAttribute) title=\"\(exact)\" data-usd=\"\(decimal)\">\(cents(decimal))</span>")
    }

    /// For chart geometry only (bar heights), never for a figure shown as money.
    static func approximate(_ decimal: String) -> Double { Double(decimal) ?? 0 }

    /// ("-"?, whole digits, fraction digits) of a plain decimal, or nil.
    private static func parse(_ text: String) -> (Bool, Substring, Substring)? {
        var rest = Substring(text)
        let negative = rest.hasPrefix("-")
        if negative || rest.hasPrefix("+") { rest = rest.dropFirst() }
        let parts = rest.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let whole = parts[0]
        let fraction = parts.count > 1 ? parts[1] : ""
        guard !(whole.isEmpty && fraction.isEmpty), whole.allSatisfy(\.isASCIIDigit), fraction.allSatisfy(\.isASCIIDigit) else {
            return nil
        }
        return (negative, whole, fraction)
    }

    /// "1234567" → "1,234,567".
    static func grouped(_ digits: String) -> String {
        var out = ""
        for (index, character) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(character)
        }
        return out
    }

    /// Whole numbers with thousands separators.
    static func count(_ value: Int64) -> String {
        value < 0 ? "-" + grouped(String(-value)) : grouped(String(value))
    }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
