// A large sample workflow (chains, fan-outs and joins) for performance tests and demos.

/** A workflow definition of `size` tasks: 10-wide layers, each task feeding two of the next layer. */
export function bigWorkflow(size: number, action = "core.noop"): Record<string, unknown> {
  const width = 10;
  const tasks = Array.from({ length: size }, (_, i) => {
    const next = [i + width, i + width + 1 - (((i % width) + 1) === width ? width : 0)].filter((n) => n < size);
    const task: Record<string, unknown> = { name: `task_${i}`, action };
    if (next.length) {
      task.next = [
        { when: "{{ succeeded() }}", do: next.map((n) => `task_${n}`) },
        ...(i % 7 === 0 ? [{ when: "{{ failed() }}", do: ["fail"] }] : []),
      ];
    }
    return task;
  });
  return { version: "1.0.0", tasks };
}
