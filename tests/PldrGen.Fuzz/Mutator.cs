using System.Buffers.Binary;
using System.Text;

namespace PldrGen.Fuzz;

/// <summary>
/// Seeded mutations of a valid seed, AFL-style: bit flips, interesting bytes and integers, inserted format tokens,
/// deleted, duplicated and spliced ranges, truncation. Half the edits land in the first 4 KiB, where headers are.
/// The same seed and input number always give the same bytes, so any finding is reproduced by its number.
/// </summary>
sealed class Mutator(IReadOnlyList<byte[]> seeds, IReadOnlyList<string> tokens)
{
    const int HeaderBytes = 4096, MaxGrowth = 1 << 16;
    static readonly byte[] InterestingBytes = [0, 1, 0x7F, 0x80, 0xFF, (byte)'"', (byte)'\\', (byte)'{', (byte)'[', (byte)':', (byte)'-', (byte)'9', (byte)'\n'];
    static readonly long[] InterestingIntegers = [0, 1, -1, 127, 128, 255, 256, 0x7FFF, 0x8000, int.MaxValue, int.MinValue, 1L << 31, 1L << 32, long.MaxValue, long.MinValue];

    public byte[] Mutate(Random random)
    {
        var data = new List<byte>(seeds[random.Next(seeds.Count)]);
        int edits = 1 << random.Next(4); // 1, 2, 4 or 8 stacked edits
        for (int i = 0; i < edits; i++) Edit(data, random);
        return [.. data];
    }

    void Edit(List<byte> data, Random random)
    {
        int At(int extra = 0) => data.Count + extra == 0 ? 0
            : random.Next(2) == 0 ? random.Next(Math.Min(data.Count + extra, HeaderBytes)) : random.Next(data.Count + extra);
        switch (random.Next(9))
        {
            case 0 when data.Count > 0:
                int bit = At();
                data[bit] ^= (byte)(1 << random.Next(8));
                break;
            case 1 when data.Count > 0:
                data[At()] = InterestingBytes[random.Next(InterestingBytes.Length)];
                break;
            case 2 when data.Count >= 8:
                Span<byte> value = stackalloc byte[8];
                BinaryPrimitives.WriteInt64LittleEndian(value, InterestingIntegers[random.Next(InterestingIntegers.Length)]);
                int width = 1 << random.Next(4), at = Math.Min(At(), data.Count - width);
                for (int i = 0; i < width; i++) data[at + i] = value[i];
                break;
            case 3 when tokens.Count > 0:
                data.InsertRange(At(1), Encoding.UTF8.GetBytes(tokens[random.Next(tokens.Count)]));
                break;
            case 4 when tokens.Count > 0:
                // A decimal or a token where a digit run is: numbers are where most limits live.
                int digit = data.FindIndex(At(), b => b is >= (byte)'0' and <= (byte)'9');
                if (digit < 0) break;
                int end = data.FindIndex(digit, b => b is < (byte)'0' or > (byte)'9');
                data.RemoveRange(digit, (end < 0 ? data.Count : end) - digit);
                data.InsertRange(digit, Encoding.UTF8.GetBytes(random.Next(2) == 0
                    ? InterestingIntegers[random.Next(InterestingIntegers.Length)].ToString(System.Globalization.CultureInfo.InvariantCulture)
                    : tokens[random.Next(tokens.Count)]));
                break;
            case 5 when data.Count > 0:
                int from = At(), count = Math.Min(random.Next(1, 64), data.Count - from);
                data.RemoveRange(from, count);
                break;
            case 6 when data.Count > 0 && data.Count < MaxGrowth * 16:
                int start = At(), length = Math.Min(random.Next(1, MaxGrowth), data.Count - start);
                data.InsertRange(At(1), data.GetRange(start, length));
                break;
            case 7:
                var other = seeds[random.Next(seeds.Count)];
                int cut = At(1), otherCut = random.Next(other.Length + 1);
                data.RemoveRange(cut, data.Count - cut);
                data.AddRange(other.AsSpan(otherCut).ToArray());
                break;
            case 8 when data.Count > 0:
                int keep = At();
                data.RemoveRange(keep, data.Count - keep);
                break;
        }
    }
}
