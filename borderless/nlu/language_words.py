"""Short, very common words that only one of the Latin-script languages we speak uses.

lingua judges a message by its character n-grams, which is excellent on sentences and shaky
on the three- to six-word messages of a support chat: "no es ese pedido" shares most of its
n-grams with Portuguese, "ok super merci" with Italian. A native speaker decides such a message
by one or two function words ("es", "ese"; "merci"). :class:`~borderless.nlu.language.
LanguageDetector` multiplies lingua's confidence for a language by a factor for every word of
this table the message contains (``word_weight`` in its config).

Rules for the lists, so that they stay evidence and not noise:

- a word is listed for one language only, and only if it is not an ordinary word of any other
  language we speak (``no``, ``la``, ``non``, ``come``, ``per``, ``con``, ``da``, ``mi`` are
  therefore missing: they are everyday words in two or more of them);
- lower case; with and without accents where customers often leave them out ("nao", "voce");
- elisions are split at the apostrophe ("c'est" counts as ``c`` and ``est``), so French ``j``,
  ``qu``, ``c`` are listed and Italian/French ``l``, ``d`` are not;
- chat spellings count ("vc", "bcp", "thx"): they are what customers type.
"""

from __future__ import annotations

DISTINCTIVE_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        """
        the is are my you your yours it's i'm don't can't won't didn't doesn't isn't what where
        when why how which who with without from this that these those there have has had were
        would could should please thanks thank thx ty hi hello hey bye yes yeah yep nope not
        just still yet any anything anyone someone order orders package parcel delivery refund
        return back money want need get got help human talk speak people does did be been been
        being of and or but if out about into over after before ur pls plz dont cant wont didnt
        doesnt isnt
        """.split()
    ),
    "de": frozenset(
        """
        ich mich mir mein meine meinen meinem meiner ist sind bin bist nicht nichts und oder
        aber der den dem ein eine einen einem einer mit für fuer auf bitte danke dankeschön
        vielen hallo moin servus tschüss tschuess wo wie warum wann kann können koennen könnt
        möchte moechte wollen noch schon auch haben habe hat hatte wird wurde wurden gibt zu
        nach von bei aus zum zur nein gern gerne sie ihr ihre ihnen euch uns unser bestellung
        paket lieferung rücksendung geld zurück zurueck jemand mitarbeiter sprechen kein keine
        keinen genau doch bitte
        """.split()
    ),
    "fr": frozenset(
        """
        je j c qu n est suis sont êtes avez avons ça ca cet cette ces mon votre nous vous les
        des une au aux et avec pour sur dans chez quoi quand combien où pourquoi très rien pas
        merci bonjour bonsoir salut oui ouais d'accord marche commande colis livraison
        remboursement peux pouvez veux voudrais aimerais faire fait aussi encore toujours déjà
        bcp svp stp mdr parler quelqu personne elle
        tout monde bon quel quels quelle quelles t m
        """.split()
    ),
    "es": frozenset(
        """
        el los las usted ustedes eres soy estoy tengo tiene tienen hay puedo puede pueden quiero
        quisiera necesito qué cuándo cuando cuánto cuanto dónde donde cómo cuál cual muy pero
        también tambien hasta ahora aquí ya gracias hola buenas buenos chao chau nop ese esa eso
        esto mío mía sí oye y mucho muchas muchos llegó llego llega envío devolución devolucion
        dirección direccion mañana correo tarjeta ayuda hablar alguien compré hice hace fue
        sin cancelen celu xfa dale sigo pides ponle darme perro baja
        nadie entonces todavía aún dinero paquete cambiar gustaría vosotros sois oiga pues ahí
        ningún ninguno llegado recibido cuenta bueno hoy ayer vaya finde
        """.split()
    ),
    "it": frozenset(
        """
        gli che è sono siete ho hai abbiamo avete mio mia miei mie tuo suo nostro vostro della
        dello degli delle nel nella nei nelle sul sulla alla allo questo questa questi quello
        quella perché perche anche ancora già gia grazie ciao buongiorno buonasera sì vorrei
        voglio puoi può potete ordine pacco spedizione rimborso consegna qualcuno parlare niente
        nessuno molto qualcosa c'è sto sta stato bene allora però poi dopo prima adesso
        di errore riesco ieri volte umano vero vera reale hanno per
        dove chi tutto tutti senza oggi domani soldi indirizzo prodotto arrivato arrivata
        spedito pagato funziona dell nell dall sull vostra vostri nostra fatto ricevuto subito
        comunque magari bisogno faccio direi
        """.split()
    ),
    "pt": frozenset(
        """
        não nao você voce vc vcs é né tá sim obrigado obrigada obg valeu tchau oi olá isso nem
        uma meu minha meus minhas seu na nas pra com ainda já também tambem agora quero falar
        encomenda cartão cartao pagamento ajuda até vou ele ela eles muito bom boa tudo onde
        chegou chega foi são sao estão estao tem têm fazer pode cadê cade galera aí porcaria
        então entao mas pelo pela
        em estou tô gostaria endereço endereco prazo frete correios produto dinheiro nenhum
        nenhuma alguém alguem ninguém ninguem pessoa novamente depois vocês voces mim comigo
        ficou pix comprei recebi entregue rastreio atendente esse essa num numa
        """.split()
    ),
}

#: Kanji words of Japanese customer service that Chinese does not use (Chinese says 订单,
#: 号码, 地址, 修改, 退货, 退款, 追踪, 运费 …). lingua rates any text without kana as Chinese;
#: "住所変更" or "注文番号：BL-13005" is Japanese, and these words say so.
JAPANESE_KANJI_WORDS: frozenset[str] = frozenset(
    """
    注文 番号 住所 変更 返品 返金 返信 配信 配送 発送 到着 届 追跡 支払 送料 確認 交換 解約
    退会 問合 連絡 担当者 自動 荷物 宛先 郵便 受取 受け取 購入 商品券 領収書 在庫 変 気 様
    """.split()
)

#: Characters of everyday Chinese that a kana-less Japanese message does not contain.
CHINESE_CHARACTERS: frozenset[str] = frozenset(
    "的了吗呢吧么们这那你我他她是在没有个给让还说怎谢请订单"
)
