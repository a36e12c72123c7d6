import { useApp } from './context';

/** `<option>`s for every team (after the caller's own first option). */
export function TeamOptions() {
  const { dir } = useApp();
  return (
    <>
      {[...dir.teams.values()].map((t) => (
        <option key={t.id} value={t.id}>
          {t.name}
        </option>
      ))}
    </>
  );
}

/** A table's header row. */
export function TableHead({ cols }: { cols: string[] }) {
  return (
    <thead>
      <tr>
        {cols.map((c, i) => (
          <th key={i}>{c}</th>
        ))}
      </tr>
    </thead>
  );
}
