/// One set of per-million-token prices, one per billing class, for a model at one tier
/// (standard, long context, batch…).
///
/// A nil price means "not offered": a request that has tokens in that class is reported as
/// unpriced rather than billed at zero. The reasoning price is the exception: reasoning
/// tokens are billed at the output price unless a separate reasoning price is set.
///
/// The same type is a patch in a ``PriceOverride``: its non-nil prices replace the
/// catalog's, the nil ones keep them.
public struct PriceSheet: Sendable, Hashable {
    public var input: TokenPrice?
    public var cachedInput: TokenPrice?
    public var cacheWrite5m: TokenPrice?
    public var cacheWrite1h: TokenPrice?
    public var output: TokenPrice?
    public var reasoning: TokenPrice?

    public init(input: TokenPrice? = nil, cachedInput: TokenPrice? = nil, cacheWrite5m: TokenPrice? = nil,
                cacheWrite1h: TokenPrice? = nil, output: TokenPrice? = nil, reasoning: TokenPrice? = nil) {
        self.input = input
        self.cachedInput = cachedInput
        self.cacheWrite5m = cacheWrite5m
        self.cacheWrite1h = cacheWrite1h
        self.output = output
        self.reasoning = reasoning
    }

    /// Builds a sheet from catalog-style keys (`input`, `cached_input`, `cache_write_5m`,
    /// `cache_write_1h`, `output`, `reasoning`) and decimal strings, naming
    /// `fieldPrefix.key` in any error. Unknown keys are errors, so a typo cannot silently
    /// drop a price.
    public static func parse(_ prices: [String: String], fieldPrefix: String) throws -> PriceSheet {
        var sheet = PriceSheet()
        for (key, text) in prices.sorted(by: { $0.key < $1.key }) {
            let field = "\(fieldPrefix).\(key)"
            guard let tokenClass = TokenClass(rawValue: key) else {
                let known = TokenClass.allCases.map(\.rawValue).joined(separator: ", ")
                throw ValidationError(field: field, reason: "is not a price key; use one of \(known)")
            }
            sheet[tokenClass] = try TokenPrice.parse(text, field: field)
        }
        return sheet
    }

    /// The price stored for a class, without the reasoning fallback.
    public subscript(tokenClass: TokenClass) -> TokenPrice? {
        get {
            switch tokenClass {
            case .uncachedInput: input
            case .cacheRead: cachedInput
            case .cacheWrite5m: cacheWrite5m
            case .cacheWrite1h: cacheWrite1h
            case .output: output
            case .reasoning: reasoning
            }
        }
        set {
            switch tokenClass {
            case .uncachedInput: input = newValue
            case .cacheRead: cachedInput = newValue
            case .cacheWrite5m: cacheWrite5m = newValue
            case .cacheWrite1h: cacheWrite1h = newValue
            case .output: output = newValue
            case .reasoning: reasoning = newValue
            }
        }
    }

    /// The price a token of `tokenClass` is billed at: reasoning falls back to output.
    public func billedPrice(for tokenClass: TokenClass) -> TokenPrice? {
        tokenClass == .reasoning ? (reasoning ?? output) : self[tokenClass]
    }

    /// True when no price is set.
    public var isEmpty: Bool { TokenClass.allCases.allSatisfy { self[$0] == nil } }

    /// This sheet with `patch`'s non-nil prices replacing its own.
    public func patched(with patch: PriceSheet) -> PriceSheet {
        var result = self
        for tokenClass in TokenClass.allCases {
            if let price = patch[tokenClass] { result[tokenClass] = price }
        }
        return result
    }

    /// Every set price reduced by `discount`.
    public func discounted(by discount: DiscountPercent) -> PriceSheet {
        var result = self
        for tokenClass in TokenClass.allCases {
            result[tokenClass] = self[tokenClass].map(discount.apply(to:))
        }
        return result
    }
}
