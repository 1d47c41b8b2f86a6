using System.Text;
using PldrGen.Runtime;
using PldrGen.Runtime.Checkpoints;
using Xunit;

namespace PldrGen.Tests.Checkpoints;

/// <summary>Safetensors headers are checked before any byte is read: bad files fail with messages naming the problem.</summary>
public sealed class SafeTensorsTests
{
    static void WriteFile(string path, string header, int dataBytes, long? declaredLength = null)
    {
        var json = Encoding.UTF8.GetBytes(header);
        using var file = File.Create(path);
        file.Write(BitConverter.GetBytes(declaredLength ?? json.Length));
        file.Write(json);
        file.Write(new byte[dataBytes]);
    }

    static string Refusal(string header, int dataBytes, long? declaredLength = null)
    {
        using var dir = new TempDirectory();
        string path = dir.File("x.safetensors");
        WriteFile(path, header, dataBytes, declaredLength);
        return Assert.Throws<PldrException>(() => SafeTensorsFile.Open(path).Dispose()).Message;
    }

    [Fact]
    public void A_well_formed_file_reads_back()
    {
        using var dir = new TempDirectory();
        string path = dir.File("x.safetensors");
        SafeTensorsWriter.Write(path, [SafeTensorsWriter.Float32("w", [2, 2], [1f, 2f, 3f, 4f]), SafeTensorsWriter.Int32("ids", [2], [7, 9])],
            new Dictionary<string, string> { ["k"] = "v" });
        using var file = SafeTensorsFile.Open(path);
        Assert.Equal([1f, 2f, 3f, 4f], file.ReadFloat32("w"));
        Assert.Equal([7, 9], file.ReadInt32("ids"));
        Assert.Equal("v", file.Metadata["k"]);
    }

    [Fact]
    public void BF16_and_F16_widen_exactly()
    {
        using var dir = new TempDirectory();
        string path = dir.File("x.safetensors");
        float[] values = [1.5f, -2.25f, 0.1f];
        var bf16 = values.Select(BFloat16.FromFloat).SelectMany(BitConverter.GetBytes).ToArray();
        var f16 = values.Select(v => BitConverter.GetBytes((Half)v)).SelectMany(b => b).ToArray();
        SafeTensorsWriter.Write(path, [new("b", "BF16", [3], bf16), new("h", "F16", [3], f16)]);
        using var file = SafeTensorsFile.Open(path);
        Assert.Equal(values.Select(v => BFloat16.ToFloat(BFloat16.FromFloat(v))), file.ReadFloat32("b"));
        Assert.Equal(values.Select(v => (float)(Half)v), file.ReadFloat32("h"));
    }

    [Fact]
    public void Truncated_data_is_refused_naming_the_tensor() =>
        Assert.Contains("tensor 'w': data_offsets [0, 16] lie outside the 8-byte data section",
            Refusal("""{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}""", 8));

    [Fact]
    public void A_header_longer_than_the_file_is_refused() =>
        Assert.Contains("header length 999999 does not fit a file", Refusal("{}", 0, declaredLength: 999999));

    [Fact]
    public void A_shape_that_lies_about_the_byte_count_is_refused() =>
        Assert.Contains("data_offsets span 16 bytes but F32 [3] needs 12",
            Refusal("""{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}}""", 16));

    [Fact]
    public void A_huge_shape_is_refused_before_any_allocation() =>
        Assert.Contains("has more elements than the 16-byte data section holds",
            Refusal("""{"w":{"dtype":"F32","shape":[2000000000,2000000000],"data_offsets":[0,16]}}""", 16));

    [Fact]
    public void A_shape_whose_element_count_would_wrap_around_is_refused() =>
        Assert.Contains("has more elements than",
            Refusal("""{"w":{"dtype":"F32","shape":[8,1073741824,1073741824],"data_offsets":[0,0]}}""", 16));

    [Fact]
    public void Overlapping_tensors_are_refused() =>
        Assert.Contains("tensors 'a' and 'b' overlap in the data section",
            Refusal("""{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}""", 16));

    [Fact]
    public void Offsets_that_are_not_numbers_are_refused() =>
        Assert.Contains("data_offsets are not integers",
            Refusal("""{"w":{"dtype":"F32","shape":[1],"data_offsets":["0","4"]}}""", 4));

    [Fact]
    public void A_header_that_is_not_utf8_is_refused()
    {
        using var dir = new TempDirectory();
        string path = dir.File("x.safetensors");
        byte[] header = [(byte)'{', (byte)'"', 0xFF, 0xFE, (byte)'"', (byte)':', (byte)'1', (byte)'}'];
        using (var file = File.Create(path))
        {
            file.Write(BitConverter.GetBytes((long)header.Length));
            file.Write(header);
        }
        Assert.Contains("not valid UTF-8", Assert.Throws<PldrException>(() => SafeTensorsFile.Open(path).Dispose()).Message);
    }

    [Fact]
    public void A_header_that_is_not_json_is_refused() =>
        Assert.Contains("header is not valid JSON", Refusal("{not json", 0));

    [Fact]
    public void An_unknown_dtype_is_refused() =>
        Assert.Contains("dtype F8_E4M3 is not supported", Refusal("""{"w":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}}""", 1));

    [Fact]
    public void A_tiny_file_is_refused() =>
        Assert.Contains("not a safetensors file (3 bytes", RefusalOfBytes([1, 2, 3]));

    static string RefusalOfBytes(byte[] bytes)
    {
        using var dir = new TempDirectory();
        string path = dir.File("x.safetensors");
        File.WriteAllBytes(path, bytes);
        return Assert.Throws<PldrException>(() => SafeTensorsFile.Open(path).Dispose()).Message;
    }
}
