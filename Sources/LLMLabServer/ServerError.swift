/// A start-up or command failure phrased for the operator reading the terminal.
public struct ServerError: Error, Sendable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
