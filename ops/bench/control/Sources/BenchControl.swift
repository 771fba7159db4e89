// placeholder while the benchmark is written
@main
struct BenchControl {
    static func main() {}
}
