/// Random bytes for salts, tokens and keys. `SystemRandomNumberGenerator` is the
/// platform CSPRNG (`getrandom` on Linux, `arc4random_buf` on Darwin) on every platform
/// Swift supports, so no seedable generator can slip in here.
enum SecureRandom {
    static func bytes(count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in generator.next() }
    }
}
