import CZlib

/// gzip / zlib streams through the system zlib (`CZlib`).
enum Zlib {
    enum Failure: Error, Equatable {
        case corrupt(String)
        case tooLarge
    }

    /// Inflates a gzip or zlib stream (header auto-detected; concatenated gzip members are
    /// joined, as `gunzip` does). Stops with `.tooLarge` as soon as the output passes
    /// `limit` bytes, so a small "zip bomb" cannot allocate more than about `limit` + 64 KiB.
    static func inflate(_ input: [UInt8], limit: Int) throws(Failure) -> [UInt8] {
        var stream = z_stream()
        let initStatus = llmlab_zlib_inflate_init(&stream, 15 + 32)
        guard initStatus == Z_OK else { throw .corrupt("zlib initialisation failed (\(initStatus))") }
        defer { inflateEnd(&stream) }

        let chunkSize = 64 * 1024
        var chunk = [UInt8](repeating: 0, count: chunkSize)
        var output: [UInt8] = []
        let outcome: Result<[UInt8], Failure> = input.withUnsafeBufferPointer { source in
            guard let base = source.baseAddress, source.count > 0 else {
                return .failure(.corrupt("empty body"))
            }
            stream.next_in = UnsafeMutablePointer(mutating: base)
            stream.avail_in = UInt32(clamping: source.count)
            while true {
                var status: Int32 = Z_OK
                var produced = 0
                chunk.withUnsafeMutableBufferPointer { destination in
                    stream.next_out = destination.baseAddress
                    stream.avail_out = UInt32(chunkSize)
                    status = CZlib.inflate(&stream, Z_NO_FLUSH)
                    produced = chunkSize - Int(stream.avail_out)
                }
                switch status {
                case Z_OK, Z_STREAM_END:
                    break
                case Z_BUF_ERROR:
                    return .failure(.corrupt("truncated stream"))
                default:
                    let message = stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                    return .failure(.corrupt(message))
                }
                if produced > 0 {
                    guard output.count + produced <= limit else { return .failure(.tooLarge) }
                    output.append(contentsOf: chunk[0..<produced])
                }
                if status == Z_STREAM_END {
                    if stream.avail_in == 0 { return .success(output) }
                    // Another gzip member follows.
                    guard inflateReset(&stream) == Z_OK else { return .failure(.corrupt("cannot continue after stream end")) }
                } else if stream.avail_in == 0 && stream.avail_out > 0 {
                    return .failure(.corrupt("truncated stream"))
                }
            }
        }
        return try outcome.get()
    }

    /// Deflates into a gzip stream (tests and fixtures; the ingest path only inflates).
    static func gzip(_ input: [UInt8], level: Int32 = Z_DEFAULT_COMPRESSION) -> [UInt8] {
        var stream = z_stream()
        guard llmlab_zlib_deflate_init(&stream, level, 15 + 16) == Z_OK else { return [] }
        defer { deflateEnd(&stream) }
        let capacity = Int(deflateBound(&stream, UInt(input.count))) + 32
        var output = [UInt8](repeating: 0, count: capacity)
        var written = 0
        input.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { destination in
                stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
                stream.avail_in = UInt32(source.count)
                stream.next_out = destination.baseAddress
                stream.avail_out = UInt32(destination.count)
                if deflate(&stream, Z_FINISH) == Z_STREAM_END {
                    written = destination.count - Int(stream.avail_out)
                }
            }
        }
        return Array(output[0..<written])
    }
}
