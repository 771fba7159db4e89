import ArgumentParser

/// A price in USD per million tokens, kept as the exact decimal text the API expects
/// ("2.50", "0.075"), never through a floating-point type.
struct PriceArgument: ExpressibleByArgument {
    var decimal: String

    init?(argument: String) {
        var text = argument.trimmingWhitespace()
        if text.hasPrefix("$") { text.removeFirst() }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let whole = parts.first, !whole.isEmpty, whole.allSatisfy(\.isASCIIDigit)
        else { return nil }
        if parts.count == 2 {
            guard (1...18).contains(parts[1].count), parts[1].allSatisfy(\.isASCIIDigit) else { return nil }
        }
        decimal = text
    }
}

/// A calendar day written `YYYY-MM-DD`; whether it may be used is the server's to say.
struct DayArgument: ExpressibleByArgument {
    var text: String

    init?(argument: String) {
        let value = argument.trimmingWhitespace()
        let parts = value.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts.map(\.count) == [4, 2, 2], parts.allSatisfy({ $0.allSatisfy(\.isASCIIDigit) }),
              let month = Int(parts[1]), (1...12).contains(month), let day = Int(parts[2]), (1...31).contains(day)
        else { return nil }
        text = value
    }
}
