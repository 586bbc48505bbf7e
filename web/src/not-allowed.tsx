/** A page the signed-in person's roles do not open: said plainly, with a way on. */
export function NotAllowed({ what, who }: { what: string; who: string }) {
  return (
    <>
      <h1 tabIndex={-1}>Not allowed</h1>
      <p class="error" role="alert" data-testid="not-allowed">
        {what} is for {who}. Your roles do not include it; ask a platform admin if they should.
      </p>
      <p>
        <a href="#/catalog">Go to the catalog</a>
      </p>
    </>
  );
}
