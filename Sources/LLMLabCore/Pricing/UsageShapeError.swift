/// A provider usage report whose numbers contradict each other (a cached count larger than
/// the prompt it is part of, a negative count). Normalising it would count some tokens
/// twice or not at all, so the normaliser refuses; the caller stores the request as
/// unpriced with this message instead of inventing a cost.
public struct UsageShapeError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The wire field that is inconsistent, spelled as on the wire.
    public var field: String
    /// What is wrong with it.
    public var reason: String

    public init(field: String, reason: String) {
        self.field = field
        self.reason = reason
    }

    public var description: String { "usage \(field): \(reason)" }

    static func check(_ value: Int, _ field: String) throws(UsageShapeError) -> Int {
        guard value >= 0 else { throw UsageShapeError(field: field, reason: "is negative (\(value))") }
        return value
    }

    /// `part` must not exceed the `whole` it is included in.
    static func checkPart(_ part: Int, _ partField: String, of whole: Int, _ wholeField: String) throws(UsageShapeError) {
        guard part <= whole else {
            throw UsageShapeError(field: partField, reason: "(\(part)) exceeds \(wholeField) (\(whole)), which includes it")
        }
    }
}
