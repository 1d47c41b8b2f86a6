using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace PldrGen.Ilgpu;

/// <summary>
/// The kernels whose sizes change from layer to layer (Linear for every projection, LayerNorm over D or dk, the GLU
/// gate): compiled once per accelerator and shared by every model on it, sizes passed as arguments. The kernels
/// that follow the spec's fixed shapes (RoPE, attention, metric tensor, power law) are generated per spec.
/// </summary>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)] // called by generated kernels, not by users
public sealed class LayerKernels
{
    /// <summary>Largest group the kernels use; shared-memory scratch is sized for it.</summary>
    public const int MaxGroupSize = 256;
    /// <summary>Rows below which a Linear runs as dot products (decode) instead of the tiled product (prefill).</summary>
    public const int TiledMinRows = 8;
    const int MaxTile = 16;               // tiled product: ts ≤ 16, so a group has ts×ts ≤ 256 threads
    const int Micro = 4;                  // each thread computes Micro×Micro outputs
    const int TileStride = MaxTile + 1;   // padded shared-memory rows: no bank conflicts reading W columns

    static readonly ConditionalWeakTable<Accelerator, LayerKernels> Loaded = new();

    /// <summary>The kernels loaded on <paramref name="accelerator"/>, loading them on first use (ILGPU issue 192: load once).</summary>
    public static LayerKernels For(Accelerator accelerator) => Loaded.GetValue(accelerator, static a => new LayerKernels(a));

    readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int, int> _tiled;
    readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int, int> _dot;
    readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, float> _layerNorm;
    readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, int, int> _gluGate;
    readonly int _maxGroups, _tile, _lanes;
    long _launches;

    LayerKernels(Accelerator accelerator)
    {
        Accelerator = accelerator;
        int largest = Math.Min(MaxGroupSize, accelerator.MaxNumThreadsPerGroup);
        GroupSize = 1 << (31 - System.Numerics.BitOperations.LeadingZeroCount((uint)largest));
        _tile = 1;
        while ((_tile * 2) * (_tile * 2) <= GroupSize && _tile * 2 <= MaxTile) _tile *= 2;
        // Lanes per dot product: a warp's worth reads W rows coalesced; groups too small for that (ILGPU's CPU
        // accelerator, where each lane is an OS thread) give each thread whole rows and skip the reduction's barriers.
        _lanes = GroupSize >= 8 ? Math.Min(GroupSize, 32) : 1;
        // Enough groups to fill the device a few times over; grid-stride loops cover the rest.
        _maxGroups = Math.Max(1, accelerator.NumMultiprocessors * Math.Max(1, accelerator.MaxNumThreadsPerMultiprocessor / GroupSize) * 4);

        _tiled = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int, int>(LinearTiledKernel);
        _dot = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int, int>(LinearDotKernel);
        _layerNorm = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, float>(LayerNormKernel);
        _gluGate = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int, int>(GluGateKernel);
    }

    public Accelerator Accelerator { get; }

    /// <summary>Threads per group: the largest power of two up to <see cref="MaxGroupSize"/> the accelerator allows.</summary>
    public int GroupSize { get; }

    /// <summary>
    /// Kernel launches on this accelerator so far: every launch takes its configuration from <see cref="Spread"/> or
    /// <see cref="PerGroup"/>, which count it (how the tests see one launch per op per batched step).
    /// </summary>
    public long Launches => Interlocked.Read(ref _launches);

    /// <summary>A launch of full groups for <paramref name="items"/> independent items (grid-stride beyond the cap).</summary>
    public KernelConfig Spread(long items) => Launch((int)Math.Clamp((items + GroupSize - 1) / GroupSize, 1, _maxGroups), GroupSize);

    /// <summary>A launch of one group per task (grid-stride beyond the cap), with <paramref name="groupSize"/> threads.</summary>
    public KernelConfig PerGroup(long tasks, int groupSize) => Launch((int)Math.Clamp(tasks, 1, _maxGroups), groupSize);

    KernelConfig Launch(int groups, int groupSize)
    {
        Interlocked.Increment(ref _launches);
        return new KernelConfig(groups, groupSize);
    }

    /// <summary>The smallest power-of-two group, up to <see cref="GroupSize"/>, that gives each of <paramref name="width"/> columns a thread.</summary>
    public int GroupFor(int width)
    {
        int size = 1;
        while (size < width && size < GroupSize) size *= 2;
        return size;
    }

    /// <summary>y[r, o] = x[r]·W[o] + b[o] for r &lt; rows (x [rows, In], y [rows, Out]).</summary>
    public void Linear(ArrayView<float> x, int rows, DeviceLinear layer, ArrayView<float> y)
    {
        if (rows < TiledMinRows)
        {
            LinearRows(x, rows, layer, y);
            return;
        }
        // Smaller tiles when the largest would leave multiprocessors idle (a 128-token prompt through a 896-wide
        // layer is only 28 tiles of 64×64).
        int ts = _tile;
        while (ts > 2 && Tiles(rows, layer.Out, ts) < 2L * Accelerator.NumMultiprocessors) ts /= 2;
        _tiled(PerGroup(Tiles(rows, layer.Out, ts), ts * ts), x, layer.Weight, layer.Bias, y, rows, layer.In, layer.Out, layer.HasBias ? 1 : 0, ts);
    }

    /// <summary>
    /// <see cref="Linear"/> as dot products for any number of rows: each row's arithmetic is that of a lone decode
    /// row, whatever the other rows (the batched decode step).
    /// </summary>
    public void LinearRows(ArrayView<float> x, int rows, DeviceLinear layer, ArrayView<float> y)
    {
        long tasks = (long)rows * layer.Out;
        int slots = GroupSize / _lanes;
        _dot(PerGroup((tasks + slots - 1) / slots, GroupSize), x, layer.Weight, layer.Bias, y, rows, layer.In, layer.Out, layer.HasBias ? 1 : 0, _lanes);
    }

    static long Tiles(int rows, int outDim, int ts)
    {
        int span = Micro * ts;
        return (long)((rows + span - 1) / span) * ((outDim + span - 1) / span);
    }

    /// <summary>y = LN(x + residual) row by row (x, residual and y may alias; no residual when it is default).</summary>
    public void LayerNorm(ArrayView<float> x, ArrayView<float> residual, ArrayView<float> y, DeviceNorm norm, int rows, int dim, float eps)
    {
        bool hasResidual = residual.IsValid;
        _layerNorm(PerGroup(rows, GroupFor(dim)), x, hasResidual ? residual : x, hasResidual ? 1 : 0, y, norm.Weight, norm.Bias, rows, dim, eps);
    }

    /// <summary>y = W3·(silu(W1·x + b1) ⊙ (W2·x + b2)) + b3; gateUp holds rows × 2·Hidden floats, hidden rows × Hidden.</summary>
    public void Glu(ArrayView<float> x, int rows, DeviceGlu glu, ArrayView<float> gateUp, ArrayView<float> hidden, ArrayView<float> y) =>
        GluWith(x, rows, glu, gateUp, hidden, y, dotProducts: false);

    /// <summary><see cref="Glu"/> with <see cref="LinearRows"/>: each row computed as a lone decode row.</summary>
    public void GluRows(ArrayView<float> x, int rows, DeviceGlu glu, ArrayView<float> gateUp, ArrayView<float> hidden, ArrayView<float> y) =>
        GluWith(x, rows, glu, gateUp, hidden, y, dotProducts: true);

    void GluWith(ArrayView<float> x, int rows, DeviceGlu glu, ArrayView<float> gateUp, ArrayView<float> hidden, ArrayView<float> y, bool dotProducts)
    {
        if (dotProducts) LinearRows(x, rows, glu.GateUp, gateUp); else Linear(x, rows, glu.GateUp, gateUp);
        _gluGate(Spread((long)rows * glu.Hidden), gateUp, hidden, rows, glu.Hidden);
        if (dotProducts) LinearRows(hidden, rows, glu.Down, y); else Linear(hidden, rows, glu.Down, y);
    }

    /// <summary>
    /// y[r, o] = Σ_i x[r, i]·W[o, i] + b[o]. Index space: one group of ts×ts threads per tile of 4ts rows × 4ts
    /// outputs (grid-stride over tiles); each thread accumulates a 4×4 block in registers while x and W move through
    /// shared memory in slices of ts columns.
    /// </summary>
    static void LinearTiledKernel(ArrayView<float> x, ArrayView<float> w, ArrayView<float> bias, ArrayView<float> y,
        int rows, int inDim, int outDim, int hasBias, int ts)
    {
        var xs = SharedMemory.Allocate<float>(Micro * MaxTile * TileStride);
        var ws = SharedMemory.Allocate<float>(Micro * MaxTile * TileStride);
        int tid = Group.IdxX, threads = Group.DimX;
        int tx = tid % ts, ty = tid / ts;
        int span = Micro * ts;
        int rowTiles = (rows + span - 1) / span, outTiles = (outDim + span - 1) / span;
        for (int tile = Grid.IdxX; tile < rowTiles * outTiles; tile += Grid.DimX)
        {
            int r0 = tile / outTiles * span, o0 = tile % outTiles * span;
            float c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
            float c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
            for (int k0 = 0; k0 < inDim; k0 += ts)
            {
                for (int e = tid; e < span * ts; e += threads)
                {
                    int row = e / ts, col = e - row * ts, k = k0 + col;
                    xs[row * TileStride + col] = r0 + row < rows && k < inDim ? x[(r0 + row) * inDim + k] : 0f;
                    ws[row * TileStride + col] = o0 + row < outDim && k < inDim ? w[(o0 + row) * inDim + k] : 0f;
                }
                Group.Barrier();
                for (int kk = 0; kk < ts; kk++)
                {
                    float a0 = xs[ty * TileStride + kk], a1 = xs[(ty + ts) * TileStride + kk];
                    float a2 = xs[(ty + 2 * ts) * TileStride + kk], a3 = xs[(ty + 3 * ts) * TileStride + kk];
                    float b0 = ws[tx * TileStride + kk], b1 = ws[(tx + ts) * TileStride + kk];
                    float b2 = ws[(tx + 2 * ts) * TileStride + kk], b3 = ws[(tx + 3 * ts) * TileStride + kk];
                    c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
                    c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
                    c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
                    c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
                }
                Group.Barrier();
            }
            int r = r0 + ty, o = o0 + tx;
            StoreRow(y, bias, hasBias, rows, outDim, r, o, ts, c00, c01, c02, c03);
            StoreRow(y, bias, hasBias, rows, outDim, r + ts, o, ts, c10, c11, c12, c13);
            StoreRow(y, bias, hasBias, rows, outDim, r + 2 * ts, o, ts, c20, c21, c22, c23);
            StoreRow(y, bias, hasBias, rows, outDim, r + 3 * ts, o, ts, c30, c31, c32, c33);
        }
    }

    /// <summary>Writes one thread's four outputs of row r (columns o, o+ts, o+2ts, o+3ts) that fall inside y.</summary>
    static void StoreRow(ArrayView<float> y, ArrayView<float> bias, int hasBias, int rows, int outDim, int r, int o, int ts,
        float v0, float v1, float v2, float v3)
    {
        if (r >= rows) return;
        Store(y, bias, hasBias, outDim, r, o, v0);
        Store(y, bias, hasBias, outDim, r, o + ts, v1);
        Store(y, bias, hasBias, outDim, r, o + 2 * ts, v2);
        Store(y, bias, hasBias, outDim, r, o + 3 * ts, v3);
    }

    static void Store(ArrayView<float> y, ArrayView<float> bias, int hasBias, int outDim, int r, int o, float value)
    {
        if (o < outDim) y[r * outDim + o] = hasBias != 0 ? value + bias[o] : value;
    }

    /// <summary>
    /// y[r, o] = Σ_i x[r, i]·W[o, i] + b[o] for few rows (decode). Index space: each (r, o) dot product is a task of
    /// <paramref name="lanes"/> threads that stride over i (coalesced reads of W's row); a group runs
    /// Group.DimX / lanes tasks at once, grid-stride over tasks; the lanes' partial sums meet in shared memory.
    /// </summary>
    static void LinearDotKernel(ArrayView<float> x, ArrayView<float> w, ArrayView<float> bias, ArrayView<float> y,
        int rows, int inDim, int outDim, int hasBias, int lanes)
    {
        var partial = SharedMemory.Allocate<float>(MaxGroupSize);
        int tid = Group.IdxX, lane = tid % lanes, slot = tid / lanes, slots = Group.DimX / lanes;
        int tasks = rows * outDim;
        for (int first = Grid.IdxX * slots; first < tasks; first += Grid.DimX * slots)
        {
            int task = first + slot;
            float sum = 0;
            if (task < tasks)
            {
                int r = task / outDim, o = task - r * outDim;
                int xo = r * inDim, wo = o * inDim;
                for (int i = lane; i < inDim; i += lanes) sum += x[xo + i] * w[wo + i];
            }
            if (lanes > 1) // the same for the whole group, so the barriers inside are reached by every thread
            {
                partial[tid] = sum;
                Group.Barrier();
                for (int stride = lanes / 2; stride > 0; stride >>= 1)
                {
                    if (lane < stride) partial[tid] += partial[tid + stride];
                    Group.Barrier();
                }
                sum = partial[tid];
                Group.Barrier();
            }
            if (lane == 0 && task < tasks) y[task] = hasBias != 0 ? sum + bias[task % outDim] : sum;
        }
    }

    /// <summary>
    /// y[r] = LN(x[r] + residual[r]) (residual only when hasResidual ≠ 0): mean, then biased variance, eps, weight,
    /// bias, as the CPU reference. Index space: one group per row (grid-stride over rows), threads stride over its
    /// columns; the two sums are shared-memory reductions.
    /// </summary>
    static void LayerNormKernel(ArrayView<float> x, ArrayView<float> residual, int hasResidual, ArrayView<float> y,
        ArrayView<float> weight, ArrayView<float> bias, int rows, int dim, float eps)
    {
        var partial = SharedMemory.Allocate<float>(MaxGroupSize);
        for (int r = Grid.IdxX; r < rows; r += Grid.DimX)
        {
            int start = r * dim;
            float sum = 0;
            for (int i = Group.IdxX; i < dim; i += Group.DimX)
            {
                float v = hasResidual != 0 ? x[start + i] + residual[start + i] : x[start + i];
                y[start + i] = v;
                sum += v;
            }
            float mean = GroupReduce.Sum(partial, sum) / dim;
            float squares = 0;
            for (int i = Group.IdxX; i < dim; i += Group.DimX)
            {
                float d = y[start + i] - mean;
                squares += d * d;
            }
            float scale = 1f / XMath.Sqrt(GroupReduce.Sum(partial, squares) / dim + eps);
            for (int i = Group.IdxX; i < dim; i += Group.DimX)
                y[start + i] = (y[start + i] - mean) * scale * weight[i] + bias[i];
        }
    }

    /// <summary>
    /// hidden[r, j] = silu(gateUp[r, j])·gateUp[r, Hidden + j]: the GLU gate on the fused W1|W2 projection.
    /// Index space: grid-stride over rows × Hidden.
    /// </summary>
    static void GluGateKernel(ArrayView<float> gateUp, ArrayView<float> hidden, int rows, int width)
    {
        for (int e = Grid.GlobalIndex.X; e < rows * width; e += Grid.DimX * Group.DimX)
        {
            int r = e / width, j = e - r * width;
            hidden[e] = GroupReduce.Silu(gateUp[r * 2 * width + j]) * gateUp[r * 2 * width + width + j];
        }
    }
}
