import Foundation
public import Logging
import Synchronization

/// The server's log handler: one line per message on standard error, in swift-log's
/// `StreamLogHandler` format (`<time> <level> <label> : <key=value …> [<source>] <message>`).
///
/// Unlike `StreamLogHandler`, setting metadata costs nothing: it is formatted only when a
/// line is written. The proxy attaches a request id to every request's logger, so at
/// thousands of requests a second the eager formatting was measurable.
public struct StandardErrorLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    let label: String

    /// Serialises writes so lines from different threads never interleave.
    private static let output = Mutex(())

    public init(label: String, metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        write(level: event.level, message: event.message, metadata: event.metadata, source: event.source)
    }

    public func log(level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?, source: String,
                    file: String, function: String, line: UInt) {
        write(level: level, message: message, metadata: explicit, source: source)
    }

    private func write(level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?, source: String) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let explicit { merged.merge(explicit) { _, new in new } }
        let pairs = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let text = "\(Date().formatted(.iso8601)) \(level) \(label) :\(pairs.isEmpty ? "" : " " + pairs) [\(source)] \(message)\n"
        Self.output.withLock { _ in
            FileHandle.standardError.write(Data(text.utf8))
        }
    }
}
