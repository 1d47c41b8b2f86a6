using ILGPU;
using ILGPU.Runtime;
using PldrGen.Runtime.Kernels;

namespace PldrGen.Ilgpu;

/// <summary>A Linear layer resident on the device: W [Out, In] row-major, Bias [Out] (HasBias false: unused).</summary>
public readonly record struct DeviceLinear(ArrayView<float> Weight, ArrayView<float> Bias, bool HasBias, int In, int Out);

/// <summary>A LayerNorm's weight and bias on the device.</summary>
public readonly record struct DeviceNorm(ArrayView<float> Weight, ArrayView<float> Bias);

/// <summary>A GLU on the device: W1 and W2 fused into one [2·Hidden, In] projection (gate rows first), then W3.</summary>
public readonly record struct DeviceGlu(DeviceLinear GateUp, DeviceLinear Down)
{
    public int Hidden => Down.In;
}

/// <summary>The power-law parameters on the device, each [H, dk, dk].</summary>
public readonly record struct DevicePlga(ArrayView<float> W, ArrayView<float> B, ArrayView<float> Pw, ArrayView<float> Alpha, ArrayView<float> Beta);

/// <summary>
/// Every buffer a model allocates on its accelerator, freed together. Weights go up once; run-state buffers are
/// allocated zeroed; <see cref="Write(ArrayView{float}, ReadOnlySpan{float})"/> and <see cref="Read"/> are the only
/// host↔device copies (synchronous, on the default stream, so they wait for the kernels queued before them).
/// </summary>
public sealed class DeviceMemory(Accelerator accelerator) : IDisposable
{
    readonly List<MemoryBuffer> _buffers = [];

    public Accelerator Accelerator { get; } = accelerator;

    /// <summary>Bytes allocated so far.</summary>
    public long Bytes { get; private set; }

    public ArrayView<float> Floats(long length) => Zeroed<float>(length);
    public ArrayView<int> Ints(long length) => Zeroed<int>(length);

    public ArrayView<float> Upload(ReadOnlySpan<float> values)
    {
        var view = Floats(values.Length);
        Write(view, values);
        return view;
    }

    /// <summary>Uploads Linear layers with the same input size as one layer whose outputs are theirs, in order.</summary>
    public DeviceLinear Linear(params LinearWeights[] parts)
    {
        int inDim = parts[0].In, outDim = parts.Sum(p => p.Out);
        bool hasBias = parts[0].Bias is not null;
        if (parts.Any(p => p.In != inDim || (p.Bias is not null) != hasBias))
            throw new ArgumentException("fused Linear layers need the same input size and the same bias setting", nameof(parts));
        var weight = Floats((long)outDim * inDim);
        var bias = Floats(hasBias ? outDim : 1);
        long offset = 0, biasOffset = 0;
        foreach (var part in parts)
        {
            var values = part.Weight.ToRowMajor();
            Write(weight.SubView(offset, values.Length), values);
            offset += values.Length;
            if (part.Bias is { } b) Write(bias.SubView(biasOffset, b.Length), b);
            biasOffset += part.Out;
        }
        return new DeviceLinear(weight, bias, hasBias, inDim, outDim);
    }

    public DeviceNorm Norm(NormWeights norm) => new(Upload(norm.Weight), Upload(norm.Bias));

    public DeviceGlu Glu(GluWeights glu) => new(Linear(glu.W1, glu.W2), Linear(glu.W3));

    public DevicePlga Plga(PlgaWeights plga) => new(Upload(plga.W), Upload(plga.B), Upload(plga.Pw), Upload(plga.Alpha), Upload(plga.Beta));

    public static void Write(ArrayView<float> target, ReadOnlySpan<float> values) => target.CopyFromCPU<float, ArrayView<float>>(values);
    public static void Write(ArrayView<int> target, ReadOnlySpan<int> values) => target.CopyFromCPU<int, ArrayView<int>>(values);
    public static void Read(ArrayView<float> source, Span<float> values) => source.CopyToCPU<float, ArrayView<float>>(values);

    ArrayView<T> Zeroed<T>(long length) where T : unmanaged
    {
        var buffer = Accelerator.Allocate1D<T>(Math.Max(length, 1));
        buffer.MemSetToZero();
        _buffers.Add(buffer);
        Bytes += buffer.LengthInBytes;
        return buffer.View.SubView(0, length);
    }

    public void Dispose()
    {
        foreach (var buffer in _buffers) buffer.Dispose();
        _buffers.Clear();
    }
}
