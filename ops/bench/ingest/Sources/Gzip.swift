import CZlib

/// gzip framing through the system zlib, as OTLP/HTTP exporters send with
/// `Content-Encoding: gzip` (zlib's default level 6, like the Collector's exporter).
///
/// Built from `compress2` (zlib framing) re-framed as gzip — header, the same raw deflate
/// data, CRC-32 and size — because `z_stream`'s members clash with the copy of zlib.h that
/// grpc-swift-nio-transport also exposes in this target (MemberImportVisibility).
enum Gzip {
    static func compress(_ input: [UInt8], level: Int32 = Z_DEFAULT_COMPRESSION) -> [UInt8] {
        var capacity = compressBound(uLong(input.count))
        var zlibData = [UInt8](repeating: 0, count: Int(capacity))
        let status = zlibData.withUnsafeMutableBufferPointer { destination in
            input.withUnsafeBufferPointer { source in
                compress2(destination.baseAddress, &capacity, source.baseAddress, uLong(source.count), level)
            }
        }
        guard status == Z_OK, capacity >= 6 else { return [] }
        let crc = input.withUnsafeBufferPointer { source in
            crc32(crc32(0, nil, 0), source.baseAddress, uInt(source.count))
        }
        // gzip header: magic, deflate, no flags, no mtime, no extra flags, OS unknown.
        var out: [UInt8] = [0x1F, 0x8B, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xFF]
        out.reserveCapacity(Int(capacity) + 18)
        // Skip the 2-byte zlib header and the 4-byte Adler-32 trailer: the raw deflate data.
        out += zlibData[2..<(Int(capacity) - 4)]
        for shift in stride(from: 0, to: 32, by: 8) { out.append(UInt8(truncatingIfNeeded: UInt32(crc) >> UInt32(shift))) }
        let size = UInt32(truncatingIfNeeded: input.count)
        for shift in stride(from: 0, to: 32, by: 8) { out.append(UInt8(truncatingIfNeeded: size >> UInt32(shift))) }
        return out
    }
}
