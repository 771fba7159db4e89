/// RFC 4180 CSV: comma-separated fields, double-quoted fields that may hold commas, line
/// breaks and doubled quotes, CRLF or LF line ends, an optional UTF-8 BOM. Each record
/// keeps the line it starts on, so import errors can name it.
public enum CSVReader {
    /// One record (row) of fields, as text with quoting removed.
    public struct Record: Sendable, Hashable {
        /// 1-based line number where the record starts.
        public var line: Int
        public var fields: [String]
    }

    public static func records(_ bytes: [UInt8]) throws(BillingError) -> [Record] {
        var input = bytes[...]
        if input.starts(with: [0xEF, 0xBB, 0xBF]) { input = input.dropFirst(3) }
        var records: [Record] = []
        var fields: [String] = []
        var field: [UInt8] = []
        var line = 1
        var recordLine = 1
        var inQuotes = false
        var quotedField = false
        var index = input.startIndex
        func endField() {
            fields.append(String(decoding: field, as: UTF8.self))
            field.removeAll(keepingCapacity: true)
            quotedField = false
        }
        while index < input.endIndex {
            let byte = input[index]
            index += 1
            if inQuotes {
                if byte == UInt8(ascii: "\"") {
                    if index < input.endIndex, input[index] == UInt8(ascii: "\"") {
                        field.append(byte)
                        index += 1
                    } else {
                        inQuotes = false
                    }
                } else {
                    if byte == 0x0A { line += 1 }
                    field.append(byte)
                }
                continue
            }
            switch byte {
            case UInt8(ascii: ","):
                endField()
            case UInt8(ascii: "\""):
                guard field.isEmpty, !quotedField else {
                    throw BillingError(.invalidFile, "line \(line), column \(fields.count + 1): a quote inside an unquoted field; quote the whole field and double inner quotes")
                }
                inQuotes = true
                quotedField = true
            case 0x0D:
                continue
            case 0x0A:
                endField()
                if !(fields.count == 1 && fields[0].isEmpty) { records.append(Record(line: recordLine, fields: fields)) }
                fields.removeAll()
                line += 1
                recordLine = line
            default:
                if quotedField {
                    throw BillingError(.invalidFile, "line \(line), column \(fields.count + 1): text after a closing quote")
                }
                field.append(byte)
            }
        }
        if inQuotes { throw BillingError(.invalidFile, "line \(recordLine): a quoted field is never closed") }
        if !field.isEmpty || !fields.isEmpty || quotedField {
            endField()
            records.append(Record(line: recordLine, fields: fields))
        }
        return records
    }
}

/// A CSV file with a header row, read by column name.
struct CSVTable {
    let header: [String]
    let records: [CSVReader.Record]
    let columns: [String: Int]

    init(_ bytes: [UInt8], what: String) throws(BillingError) {
        let all = try CSVReader.records(bytes)
        guard let first = all.first else { throw BillingError(.invalidFile, "\(what): the file is empty; a header row is required") }
        header = first.fields.map { $0.trimmingSpaces.lowercased() }
        var columns: [String: Int] = [:]
        for (index, name) in header.enumerated() where !name.isEmpty {
            guard columns[name] == nil else {
                throw BillingError(.invalidFile, "\(what): line \(first.line): column \(name) appears twice in the header")
            }
            columns[name] = index
        }
        self.columns = columns
        records = Array(all.dropFirst())
    }

    /// The index of the first of `names` present.
    func index(_ names: [String]) -> Int? {
        for name in names { if let index = columns[name] { return index } }
        return nil
    }

    func require(_ names: [String], what: String) throws(BillingError) -> Int {
        guard let index = index(names) else {
            throw BillingError(.invalidFile, "\(what): line 1: the header has no \(names[0]) column (found: \(header.joined(separator: ",")))")
        }
        return index
    }

    func check(_ record: CSVReader.Record, what: String) throws(BillingError) {
        guard record.fields.count == header.count else {
            throw BillingError(.invalidFile, "\(what): line \(record.line): \(record.fields.count) fields, but the header has \(header.count)")
        }
    }
}
