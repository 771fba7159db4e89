/// Why a price catalog was refused: every problem found, each naming the entry and field
/// (`entries[12] (openai/gpt-4o@2024-08-06).prices.input: must not be negative`), so one
/// run shows everything to fix in the data file.
public struct PriceCatalogError: Error, Sendable, Hashable, CustomStringConvertible {
    public var problems: [String]

    public init(problems: [String]) { self.problems = problems }

    public var description: String {
        "invalid price catalog (\(problems.count) problem\(problems.count == 1 ? "" : "s")):\n"
            + problems.map { "  - \($0)" }.joined(separator: "\n")
    }
}
