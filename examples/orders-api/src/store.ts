import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

export interface Order {
  id: number;
  item: string;
  quantity: number;
  owner: string;
  createdAt: string;
}

/** The example's own data: orders in a SQLite file, seeded on first start. */
export class OrderStore {
  readonly #db: Database.Database;

  constructor(file: string) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.#db = new Database(file);
    this.#db.pragma('journal_mode = WAL');
    this.#db.exec(`create table if not exists orders (
      id integer primary key autoincrement,
      item text not null,
      quantity integer not null,
      owner text not null,
      created_at text not null
    )`);
    const count = (this.#db.prepare('select count(*) n from orders').get() as { n: number }).n;
    if (count === 0) {
      for (const [item, quantity] of [['Espresso beans 1 kg', 2], ['Milk frother', 1], ['Ceramic cups (6)', 3]] as const) {
        this.create(item, quantity, 'seed');
      }
    }
  }

  list(): Order[] {
    return (this.#db.prepare('select id, item, quantity, owner, created_at as createdAt from orders order by id').all() as Order[]);
  }

  get(id: number): Order | undefined {
    return this.#db.prepare('select id, item, quantity, owner, created_at as createdAt from orders where id = ?').get(id) as Order | undefined;
  }

  create(item: string, quantity: number, owner: string): Order {
    const r = this.#db.prepare('insert into orders (item, quantity, owner, created_at) values (?, ?, ?, ?)').run(item, quantity, owner, new Date().toISOString());
    return this.get(Number(r.lastInsertRowid))!;
  }

  delete(id: number): boolean {
    return this.#db.prepare('delete from orders where id = ?').run(id).changes > 0;
  }

  close(): void {
    this.#db.close();
  }
}
