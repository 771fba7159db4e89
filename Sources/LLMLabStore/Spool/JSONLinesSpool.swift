public import Foundation

/// The local spool of a batching writer (usage events, spans): records that could not reach
/// PostgreSQL are written here as JSON lines and replayed when it is back. Replays are safe
/// to repeat because every writer inserts idempotently (by request id, by trace and span id).
///
/// Files are `<directory>/<prefix>-<UTC timestamp>-<random>.jsonl` (directory 0700, files
/// 0600), written aside and renamed into place, so a replay never reads half a file; names
/// sort in time order.
public struct JSONLinesSpool<Record: Codable & Sendable>: Sendable {
    public let directory: String
    /// File name prefix (`usage`, `spans`): several writers can share a directory.
    public let prefix: String

    public init(directory: String, prefix: String) {
        self.directory = directory
        self.prefix = prefix
    }

    /// Writes `records` to a new spool file; returns its size in bytes (0 for no records).
    @discardableResult
    public func write(_ records: [Record]) throws -> Int64 {
        guard !records.isEmpty else { return 0 }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var data = Data()
        for record in records {
            data.append(try encoder.encode(record))
            data.append(UInt8(ascii: "\n"))
        }
        let suffix = UUID().uuidString.prefix(8).lowercased()
        let name = "\(prefix)-\(Self.timestamp())-\(suffix).jsonl"
        let temporary = directory + "/." + name + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw CocoaError(.fileWriteUnknown)
        }
        try FileManager.default.moveItem(atPath: temporary, toPath: directory + "/" + name)
        return Int64(data.count)
    }

    /// The spool files waiting for replay, oldest first (names, not paths).
    public func files() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasPrefix(prefix + "-") && $0.hasSuffix(".jsonl") }.sorted()
    }

    public func path(of file: String) -> String { directory + "/" + file }

    /// The records of one file and how many lines could not be decoded; `nil` if the file
    /// cannot be read (e.g. already replayed and removed).
    public func read(_ file: String) -> (records: [Record], unreadableLines: Int)? {
        guard let data = FileManager.default.contents(atPath: path(of: file)) else { return nil }
        var records: [Record] = []
        var unreadable = 0
        let decoder = JSONDecoder()
        for line in data.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
            if let record = try? decoder.decode(Record.self, from: Data(line)) {
                records.append(record)
            } else {
                unreadable += 1
            }
        }
        return (records, unreadable)
    }

    /// Deletes a replayed file.
    public func remove(_ file: String) throws {
        try FileManager.default.removeItem(atPath: path(of: file))
    }

    /// Copies a file aside as `<file>.<suffix>` (kept for an operator, never replayed).
    public func keepCopy(of file: String, suffix: String) {
        try? FileManager.default.copyItem(atPath: path(of: file), toPath: path(of: file) + "." + suffix)
    }

    /// Moves a file aside as `<file>.<suffix>` so replay no longer tries it.
    public func setAside(_ file: String, suffix: String) throws {
        try FileManager.default.moveItem(atPath: path(of: file), toPath: path(of: file) + "." + suffix)
    }

    /// Bytes waiting for replay.
    public func totalBytes() -> Int64 {
        var total: Int64 = 0
        for name in files() {
            let attributes = try? FileManager.default.attributesOfItem(atPath: path(of: name))
            total += (attributes?[.size] as? NSNumber)?.int64Value ?? 0
        }
        return total
    }

    /// `20261129T042036.123Z`: sorts in time order.
    static func timestamp() -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss.SSS'Z'"
        return formatter.string(from: Date())
    }
}
