using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace PldrGen.Runtime.Checkpoints;

/// <summary>Writes safetensors files (G-caches, dumps) that any safetensors reader, PyTorch's included, opens.</summary>
public static class SafeTensorsWriter
{
    public sealed record Tensor(string Name, string DType, int[] Shape, byte[] Data);

    public static Tensor Float32(string name, int[] shape, ReadOnlySpan<float> values) =>
        new(name, "F32", shape, MemoryMarshal.AsBytes(values).ToArray());

    public static Tensor Int32(string name, int[] shape, ReadOnlySpan<int> values) =>
        new(name, "I32", shape, MemoryMarshal.AsBytes(values).ToArray());

    public static void Write(string path, IEnumerable<Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var list = tensors.ToList();
        using var json = new MemoryStream();
        using (var writer = new Utf8JsonWriter(json))
        {
            writer.WriteStartObject();
            if (metadata is not null)
            {
                writer.WriteStartObject("__metadata__");
                foreach (var (k, v) in metadata) writer.WriteString(k, v);
                writer.WriteEndObject();
            }
            long offset = 0;
            foreach (var t in list)
            {
                writer.WriteStartObject(t.Name);
                writer.WriteString("dtype", t.DType);
                writer.WriteStartArray("shape");
                foreach (int d in t.Shape) writer.WriteNumberValue(d);
                writer.WriteEndArray();
                writer.WriteStartArray("data_offsets");
                writer.WriteNumberValue(offset);
                writer.WriteNumberValue(offset + t.Data.Length);
                writer.WriteEndArray();
                writer.WriteEndObject();
                offset += t.Data.Length;
            }
            writer.WriteEndObject();
        }
        var header = json.ToArray().ToList();
        while (header.Count % 8 != 0) header.Add((byte)' '); // the format pads the header with spaces to 8 bytes
        try
        {
            using var file = File.Create(path);
            file.Write(BitConverter.GetBytes((long)header.Count));
            file.Write(header.ToArray());
            foreach (var t in list) file.Write(t.Data);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PldrException($"{path}: cannot write ({e.Message})");
        }
    }
}
