using PldrGen.Runtime.Checkpoints;
using Xunit;

namespace PldrGen.Tests.Cli;

/// <summary><c>pldr chat</c>: one sequence, line after line, its KV- and G-cache kept between turns.</summary>
public sealed class ChatTests
{
    static string Demo => Fixtures.ModelDir("pldr-tiny-pydoc");

    [Fact]
    public void Each_line_continues_the_sequence_and_reset_starts_over()
    {
        using var dir = new TempDirectory();
        string gcache = dir.File("turn1.gcache");
        var chat = PldrProgram.WithTestSpecs.Run(["chat", "--model", Demo, "--greedy", "-n", "8", "--ignore-eos"],
            $"The import statement\n is not\n/gcache save {gcache}\n/reset\nThe import statement\n");
        Assert.True(chat.ExitCode == 0, chat.Stderr);
        var turns = chat.Stdout.Split('\n');
        Assert.Equal(4, turns.Length); // three turns and the empty rest after the last newline

        // Turn 1 is what generate continues the same prompt with.
        string first = PldrProgram.WithTestSpecs.Run("generate", "--model", Demo, "--prompt", "The import statement", "--greedy", "-n", "8", "--ignore-eos").Stdout;
        Assert.Equal(first, "The import statement" + turns[0] + "\n");
        // After /reset the same line gives the same continuation again.
        Assert.Equal(turns[0], turns[2]);

        // Turn 2 continues turn 1's sequence with turn 1's G-cache: the same as generating from all of its tokens with
        // that G-cache injected.
        using var dump = new TempDirectory();
        string dumpFile = dump.File("turn1.safetensors");
        Assert.Equal(0, PldrProgram.WithTestSpecs.Run("generate", "--model", Demo, "--prompt", "The import statement", "--greedy", "-n", "8", "--ignore-eos", "--dump", dumpFile).ExitCode);
        using var turn1 = SafeTensorsFile.Open(dumpFile);
        var sequence = turn1.ReadInt32("prompt").Concat(turn1.ReadInt32("generated.tokens")).Concat(Tokenize(" is not"));
        var second = PldrProgram.WithTestSpecs.Run("generate", "--model", Demo, "--tokens", string.Join(",", sequence), "--g-cache", gcache, "--greedy", "-n", "8", "--ignore-eos");
        Assert.True(second.ExitCode == 0, second.Stderr);
        Assert.EndsWith(turns[1] + "\n", second.Stdout);
        Assert.NotEqual(turns[0], turns[1]);
    }

    [Fact]
    public void Chat_commands_that_cannot_run_say_why_and_the_session_goes_on()
    {
        var chat = PldrProgram.WithTestSpecs.Run(["chat", "--model", Demo, "--greedy", "-n", "4"], "/gcache save x.gcache\n/frob\nThe import statement\n/quit\nnot read\n");
        Assert.True(chat.ExitCode == 0, chat.Stderr);
        Assert.Contains("pldr: no G-cache yet", chat.Stderr);
        Assert.Contains("pldr: '/frob' is not a chat command", chat.Stderr);
        Assert.Single(chat.Stdout.TrimEnd('\n').Split('\n'));
    }

    static int[] Tokenize(string text)
    {
        var run = PldrProgram.WithTestSpecs.Run("tokenize", "--model", Demo, text);
        return run.Stdout.Trim().Trim('[', ']').Split(',').Select(int.Parse).ToArray();
    }
}
