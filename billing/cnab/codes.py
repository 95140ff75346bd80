"""Occurrence and reason tables, per layout and bank, in plain Portuguese.

Each occurrence table maps the two characters of the file to (Kind, label). A code that is not in
the table becomes Kind.UNKNOWN (see ``occurrence``): these tables never guess, and a code we are
not sure of is left out (UNKNOWN) or kept as INFO rather than risk calling it a payment.

Sources (public layouts; the same tables appear in the open-source boleto libraries
eduardokum/laravel-boleto, kivanio/brcobranca, BoletoNet and OpenCnabPHP):
- CNAB 240: FEBRABAN "Layout Padrão de Arquivos CNAB 240", version 10.x (2020+), note C044
  (código de movimento retorno), C047 (motivo da ocorrência: A = rejeições, B = tarifas,
  C = liquidação/baixa) and C004 (código de movimento remessa). Santander, BB and Caixa use
  C044 unchanged for cobrança.
- CNAB 400 Banco do Brasil: "Leiaute de Arquivo Retorno CBR643 (convênio de 7 posições)",
  field "comando" (109-110) and "motivos de recusa do comando 03" (87-88).
- CNAB 400 Itaú: "Cobrança Itaú - CNAB 400 - Layout de arquivos", nota 17 (códigos de
  ocorrência) and nota 20 (erros, 378-385). Itaú 15 (baixas), 16 (instruções) and 17
  (alteração de dados) are REJECTIONS of instructions, not payments.
- CNAB 400 Bradesco: "Layout de Cobrança - Arquivo-Retorno (Multibanco 400)", códigos de
  ocorrência (109-110) and motivos (319-328). Bradesco 10 is a write-off by the agency and 17 a
  payment after a write-off (or of an unregistered title).
- CNAB 400 Santander: "Layout de Cobrança CNAB 400 - Santander", códigos de ocorrência.
  Santander 17 is "liquidação em cartório" (a payment), unlike Bradesco.
"""

from __future__ import annotations

from billing.cnab.records import REJECTION_KINDS, Kind, Reason

K = Kind

# --- CNAB 240, FEBRABAN C044 (retorno) -------------------------------------------------------
C044: dict[str, tuple[Kind, str]] = {
    "02": (K.REGISTERED, "Entrada confirmada"),
    "03": (K.REJECTED, "Entrada rejeitada"),
    "04": (K.INFO, "Transferência de carteira (entrada)"),
    "05": (K.INFO, "Transferência de carteira (baixa)"),
    "06": (K.PAID, "Liquidação"),
    "07": (K.INSTRUCTION_CONFIRMED, "Confirmação do recebimento da instrução de desconto"),
    "08": (K.INSTRUCTION_CONFIRMED, "Confirmação do cancelamento do desconto"),
    "09": (K.WRITTEN_OFF, "Baixa"),
    "11": (K.INFO, "Título em carteira (em ser)"),
    "12": (K.INSTRUCTION_CONFIRMED, "Confirmação da instrução de abatimento"),
    "13": (K.INSTRUCTION_CONFIRMED, "Confirmação do cancelamento de abatimento"),
    "14": (K.INSTRUCTION_CONFIRMED, "Confirmação da alteração de vencimento"),
    "15": (K.INFO, "Franco de pagamento"),
    "17": (K.PAID_AFTER_WRITE_OFF, "Liquidação após baixa ou de título não registrado"),
    "19": (K.INSTRUCTION_CONFIRMED, "Confirmação da instrução de protesto"),
    "20": (K.INSTRUCTION_CONFIRMED, "Confirmação da sustação/cancelamento de protesto"),
    "23": (K.INFO, "Remessa a cartório (aponte em cartório)"),
    "24": (K.INFO, "Retirada de cartório e manutenção em carteira"),
    "25": (K.WRITTEN_OFF, "Protestado e baixado"),
    "26": (K.INSTRUCTION_REJECTED, "Instrução rejeitada"),
    "27": (K.INSTRUCTION_CONFIRMED, "Confirmação da alteração de outros dados"),
    "28": (K.FEE, "Débito de tarifas/custas"),
    "29": (K.INFO, "Ocorrência do pagador"),
    "30": (K.INSTRUCTION_REJECTED, "Alteração de dados rejeitada"),
    "33": (K.INSTRUCTION_CONFIRMED, "Confirmação da alteração do rateio de crédito"),
    "34": (K.INSTRUCTION_CONFIRMED, "Confirmação do cancelamento do rateio de crédito"),
    "35": (K.INSTRUCTION_CONFIRMED, "Confirmação do desagendamento do débito automático"),
    "36": (K.INFO, "Confirmação de envio de e-mail/SMS"),
    "37": (K.INFO, "Envio de e-mail/SMS rejeitado"),
    "38": (K.INSTRUCTION_CONFIRMED, "Confirmação da alteração do prazo limite de recebimento"),
    "39": (K.INSTRUCTION_CONFIRMED, "Confirmação da dispensa de prazo limite de recebimento"),
    "40": (K.INSTRUCTION_CONFIRMED, "Confirmação da alteração do número do título"),
    "41": (K.INSTRUCTION_CONFIRMED, "Confirmação da alteração do número de controle"),
    "42": (K.INSTRUCTION_CONFIRMED, "Confirmação da alteração dos dados do pagador"),
    "43": (K.INSTRUCTION_CONFIRMED, "Confirmação da alteração do sacador/avalista"),
    # A cheque that bounced or cleared: information, never a payment by itself.
    "44": (K.INFO, "Título pago com cheque devolvido"),
    "45": (K.INFO, "Título pago com cheque compensado"),
    "46": (K.INSTRUCTION_CONFIRMED, "Confirmação da instrução de cancelar protesto"),
    "47": (K.INSTRUCTION_CONFIRMED, "Confirmação de protesto para fins falimentares"),
    "48": (K.INSTRUCTION_CONFIRMED, "Confirmação da transferência de carteira/modalidade"),
    "49": (K.INFO, "Alteração de contrato de cobrança"),
    "50": (K.INFO, "Título pendente de pagamento"),
    "51": (K.INFO, "Título DDA reconhecido pelo pagador"),
    "52": (K.INFO, "Título DDA não reconhecido pelo pagador"),
    "53": (K.INFO, "Título DDA recusado pela CIP"),
}

# C047 table A: reasons of rejections (occurrences 02, 03, 26, 30).
C047_REJECTION: dict[str, str] = {
    "01": "Código do banco inválido",
    "02": "Código do registro detalhe inválido",
    "03": "Código do segmento inválido",
    "04": "Código de movimento não permitido para a carteira",
    "05": "Código de movimento inválido",
    "06": "Tipo/número de inscrição do beneficiário inválido",
    "07": "Agência/conta/dígito inválido",
    "08": "Nosso número inválido",
    "09": "Nosso número duplicado",
    "10": "Carteira inválida",
    "11": "Forma de cadastramento do título inválida",
    "12": "Tipo de documento inválido",
    "13": "Identificação da emissão do boleto inválida",
    "14": "Identificação da distribuição do boleto inválida",
    "15": "Características da cobrança incompatíveis",
    "16": "Data de vencimento inválida",
    "17": "Data de vencimento anterior à data de emissão",
    "18": "Vencimento fora do prazo de operação",
    "19": "Título de banco correspondente com vencimento muito próximo",
    "20": "Valor do título inválido",
    "21": "Espécie do título inválida",
    "22": "Espécie do título não permitida para a carteira",
    "23": "Aceite inválido",
    "24": "Data de emissão inválida",
    "25": "Data de emissão posterior à data de entrada",
    "26": "Código de juros de mora inválido",
    "27": "Valor/taxa de juros de mora inválido",
    "28": "Código do desconto inválido",
    "29": "Valor do desconto maior ou igual ao valor do título",
    "30": "Desconto a conceder não confere",
    "31": "Concessão de desconto: já existe desconto anterior",
    "32": "Valor do IOF inválido",
    "33": "Valor do abatimento inválido",
    "34": "Valor do abatimento maior ou igual ao valor do título",
    "35": "Valor do abatimento a conceder não confere",
    "36": "Concessão de abatimento: já existe abatimento anterior",
    "37": "Código para protesto inválido",
    "38": "Prazo para protesto inválido",
    "39": "Pedido de protesto não permitido para o título",
    "40": "Título com ordem de protesto emitida",
    "41": "Pedido de sustação para título sem instrução de protesto",
    "42": "Código para baixa/devolução inválido",
    "43": "Prazo para baixa/devolução inválido",
    "44": "Código da moeda inválido",
    "45": "Nome do pagador não informado",
    "46": "Tipo/número de inscrição do pagador inválido (CPF/CNPJ)",
    "47": "Endereço do pagador não informado",
    "48": "CEP inválido",
    "49": "CEP sem praça de cobrança",
    "50": "CEP referente a um banco correspondente",
    "51": "CEP incompatível com a unidade da federação",
    "52": "Unidade da federação inválida",
    "53": "Tipo/número de inscrição do sacador/avalista inválido",
    "54": "Sacador/avalista não informado",
    "55": "Nosso número no banco correspondente não informado",
    "56": "Código do banco correspondente não informado",
    "57": "Código da multa inválido",
    "58": "Data da multa inválida",
    "59": "Valor/percentual da multa inválido",
    "60": "Movimento para título não cadastrado",
    "61": "Alteração da agência cobradora inválida",
    "62": "Tipo de impressão inválido",
    "63": "Entrada para título já cadastrado",
    "64": "Número da linha inválido",
    "79": "Data de juros de mora inválida",
    "80": "Data do desconto inválida",
    "86": "Seu número inválido",
    "A5": "Título já liquidado",
    "A6": "Código do convênio inválido ou encerrado",
    "A7": "Título já se encontra na situação pretendida",
}

# C047 table B: what a fee (28) was charged for.
C047_FEE: dict[str, str] = {
    "01": "Tarifa de extrato de posição",
    "02": "Tarifa de manutenção de título vencido",
    "03": "Tarifa de sustação",
    "04": "Tarifa de protesto",
    "05": "Tarifa de outras instruções",
    "06": "Tarifa de outras ocorrências",
    "07": "Tarifa de envio de duplicata ao pagador",
    "08": "Custas de protesto",
    "09": "Custas de sustação de protesto",
    "10": "Custas de cartório distribuidor",
    "11": "Custas de edital",
    "12": "Tarifa sobre devolução de título vencido",
    "13": "Tarifa de registro cobrada na baixa/liquidação",
    "14": "Tarifa de reapresentação automática",
    "15": "Tarifa sobre rateio de crédito",
    "17": "Tarifa de prorrogação de vencimento",
    "18": "Tarifa de alteração de abatimento/desconto",
    "19": "Tarifa de arquivo mensal (em ser)",
    "20": "Tarifa de emissão de boleto pré-emitido pelo banco",
}

# C047 table C, for a write-off (09): why it was written off.
C047_WRITE_OFF: dict[str, str] = {
    "09": "Baixa comandada pelo banco",
    "10": "Baixa comandada pelo beneficiário (arquivo)",
    "11": "Baixa comandada pelo beneficiário (on-line)",
    "12": "Baixa por decurso de prazo (beneficiário)",
    "13": "Baixa por decurso de prazo (banco)",
    "14": "Título protestado",
    "15": "Título excluído",
}

# C004: movement codes of a remessa (P/Q 16-17; CNAB 400 109-110 uses the same core codes).
C004: dict[str, str] = {
    "01": "Entrada de título",
    "02": "Pedido de baixa",
    "03": "Protesto para fins falimentares",
    "04": "Concessão de abatimento",
    "05": "Cancelamento de abatimento",
    "06": "Alteração de vencimento",
    "07": "Concessão de desconto",
    "08": "Cancelamento de desconto",
    "09": "Protestar",
    "10": "Sustar protesto e baixar título",
    "11": "Sustar protesto e manter em carteira",
    "12": "Alteração de juros de mora",
    "13": "Dispensar juros de mora",
    "14": "Alteração de multa",
    "15": "Dispensar multa",
    "31": "Alteração de outros dados",
}

# --- CNAB 400 Banco do Brasil CBR643, "comando" 109-110 ---------------------------------------
BB400: dict[str, tuple[Kind, str]] = {
    "02": (K.REGISTERED, "Confirmação de entrada de título"),
    "03": (K.REJECTED, "Comando recusado"),
    # Money for a title the bank did not have registered: flagged like CNAB 240's 17.
    "05": (K.PAID_AFTER_WRITE_OFF, "Liquidado sem registro"),
    "06": (K.PAID, "Liquidação normal"),
    "07": (K.PAID, "Liquidação por conta (parcial)"),
    "08": (K.PAID, "Liquidação por saldo"),
    "09": (K.WRITTEN_OFF, "Baixa de título"),
    "10": (K.WRITTEN_OFF, "Baixa solicitada"),
    "11": (K.INFO, "Título em ser"),
    "12": (K.INSTRUCTION_CONFIRMED, "Abatimento concedido"),
    "13": (K.INSTRUCTION_CONFIRMED, "Abatimento cancelado"),
    "14": (K.INSTRUCTION_CONFIRMED, "Alteração de vencimento"),
    "15": (K.PAID, "Liquidação em cartório"),
    "16": (K.INSTRUCTION_CONFIRMED, "Confirmação de alteração de juros de mora"),
    "19": (K.INSTRUCTION_CONFIRMED, "Confirmação de instrução de protesto"),
    "20": (K.INFO, "Débito em conta"),
    "21": (K.INSTRUCTION_CONFIRMED, "Alteração do nome do pagador"),
    "22": (K.INSTRUCTION_CONFIRMED, "Alteração do endereço do pagador"),
    "23": (K.INFO, "Encaminhado a cartório"),
    "24": (K.INSTRUCTION_CONFIRMED, "Sustar protesto"),
    "25": (K.INSTRUCTION_CONFIRMED, "Dispensar juros de mora"),
    "26": (K.INSTRUCTION_CONFIRMED, "Alteração do número do título dado pelo beneficiário"),
    "28": (K.INFO, "Manutenção de título vencido"),
    "31": (K.INSTRUCTION_CONFIRMED, "Conceder desconto"),
    "32": (K.INSTRUCTION_CONFIRMED, "Não conceder desconto"),
    "33": (K.INSTRUCTION_CONFIRMED, "Retificar desconto"),
    "34": (K.INSTRUCTION_CONFIRMED, "Alterar data para desconto"),
    "35": (K.INSTRUCTION_CONFIRMED, "Cobrar multa"),
    "36": (K.INSTRUCTION_CONFIRMED, "Dispensar multa"),
    "44": (K.INFO, "Título pago com cheque devolvido"),
    "46": (K.INFO, "Título pago com cheque, aguardando compensação"),
    "96": (K.FEE, "Despesas de protesto"),
    "97": (K.FEE, "Despesas de sustação de protesto"),
    "98": (K.FEE, "Débito de custas antecipadas"),
}

# BB CBR643: reasons of a refused command (03), at 87-88.
BB400_REASONS: dict[str, str] = {
    "01": "Identificação inválida",
    "02": "Variação da carteira inválida",
    "03": "Valor dos juros por um dia inválido",
    "04": "Valor do desconto inválido",
    "05": "Espécie de título inválida para a carteira",
    "07": "Prefixo da agência usuária inválido",
    "08": "Valor do título inválido",
    "09": "Data de vencimento inválida",
    "13": "Razões cadastrais",
    "16": "Título preenchido de forma irregular",
    "18": "Endereço do pagador não localizado ou incompleto",
    "19": "Código do beneficiário inválido",
    "21": "Carteira inválida",
    "24": "Valor do abatimento inválido",
    "27": "Nome do pagador/beneficiário inválido",
    "28": "Data do novo vencimento inválida",
    "29": "Endereço não informado",
    "33": "Nosso número já existente",
    "37": "Data de emissão do título inválida",
    "38": "Data de vencimento anterior à data de emissão",
    "42": "CEP/UF inválido ou incompatível",
    "46": "Convênio encerrado",
    "52": "Abatimento igual ou maior que o valor do título",
    "53": "Título já se encontra na situação pretendida",
    "56": "Título não pertence ao convênio",
    "63": "Dígito verificador do nosso número inválido",
    "66": "CPF/CNPJ do pagador inválido",
    "68": "Código, data ou percentual de multa inválido",
    "69": "Valor/percentual de juros inválido",
    "71": "Código de juros inválido",
    "80": "Nosso número inválido",
    "82": "CEP do pagador inválido",
    "84": "Título não localizado",
    "99": "Outros motivos",
}

# --- CNAB 400 Itaú (341), nota 17 ----------------------------------------------------------------
ITAU400: dict[str, tuple[Kind, str]] = {
    "02": (K.REGISTERED, "Entrada confirmada"),
    "03": (K.REJECTED, "Entrada rejeitada"),
    "04": (K.INSTRUCTION_CONFIRMED, "Alteração de dados acatada"),
    "05": (K.INSTRUCTION_CONFIRMED, "Alteração de dados (baixa)"),
    "06": (K.PAID, "Liquidação normal"),
    "07": (K.PAID, "Liquidação parcial"),
    "08": (K.PAID, "Liquidação em cartório"),
    "09": (K.WRITTEN_OFF, "Baixa simples"),
    # The write-off that follows a payment already reported: not a new fact about money.
    "10": (K.INFO, "Baixa por ter sido liquidado"),
    "11": (K.INFO, "Título em ser"),
    "12": (K.INSTRUCTION_CONFIRMED, "Abatimento concedido"),
    "13": (K.INSTRUCTION_CONFIRMED, "Abatimento cancelado"),
    "14": (K.INSTRUCTION_CONFIRMED, "Vencimento alterado"),
    "15": (K.INSTRUCTION_REJECTED, "Baixa rejeitada"),
    "16": (K.INSTRUCTION_REJECTED, "Instrução rejeitada"),
    "17": (K.INSTRUCTION_REJECTED, "Alteração/exclusão de dados rejeitada"),
    "18": (K.INSTRUCTION_REJECTED, "Cobrança contratual: instrução/alteração rejeitada"),
    "19": (K.INSTRUCTION_CONFIRMED, "Confirmação de instrução de protesto"),
    "20": (K.INSTRUCTION_CONFIRMED, "Confirmação de instrução de sustação de protesto"),
    "21": (K.INSTRUCTION_CONFIRMED, "Confirmação de instrução de não protestar"),
    "23": (K.INFO, "Título enviado a cartório"),
    "24": (K.INSTRUCTION_REJECTED, "Instrução de protesto rejeitada/sustada/pendente"),
    "25": (K.INFO, "Alegação do pagador"),
    "26": (K.FEE, "Tarifa de aviso de cobrança"),
    "27": (K.FEE, "Tarifa de extrato de posição"),
    "28": (K.FEE, "Tarifa de relação das liquidações"),
    "29": (K.FEE, "Tarifa de manutenção de títulos vencidos"),
    "30": (K.FEE, "Débito mensal de tarifas"),
    "32": (K.WRITTEN_OFF, "Baixa por ter sido protestado"),
    "33": (K.FEE, "Custas de protesto"),
    "34": (K.FEE, "Custas de sustação"),
    "35": (K.FEE, "Custas de cartório distribuidor"),
    "36": (K.FEE, "Custas de edital"),
    "37": (K.FEE, "Tarifa de emissão de boleto"),
    "38": (K.FEE, "Tarifa de instrução"),
    "39": (K.FEE, "Tarifa de ocorrências"),
    "40": (K.FEE, "Tarifa mensal de emissão de boleto"),
    "57": (K.INFO, "Instrução cancelada"),
    "60": (K.REJECTED, "Entrada rejeitada (carnê)"),
    "65": (K.INFO, "Pagamento com cheque, aguardando compensação"),
    "69": (K.INFO, "Cheque devolvido"),
    "76": (K.INFO, "Cheque compensado"),
}

# Itaú nota 20: errors of a rejected entry (378-385).
ITAU400_REASONS: dict[str, str] = {
    "04": "Sigla do estado inválida",
    "05": "Data de vencimento inválida ou fora do prazo",
    "07": "Valor do título acima do limite",
    "08": "Nome do pagador não informado",
    "09": "Agência/conta encerrada",
    "10": "Logradouro não informado",
    "11": "CEP inválido",
    "13": "CEP incompatível com a sigla do estado",
    "14": "Nosso número já registrado ou fora da faixa",
    "15": "Nosso número em duplicidade no mesmo arquivo",
    "19": "Ocorrência inválida",
    "37": "CPF/CNPJ do pagador inválido",
    "42": "Nosso número fora da faixa",
    "60": "Valor do abatimento inválido",
    "61": "Juros de mora maior que o permitido",
    "62": "Valor do desconto maior que o valor do título",
    "64": "Data de emissão do título inválida",
    "66": "Data de vencimento inválida ou fora do prazo de operação",
    "67": "Valor do título ou quantidade de moeda inválido",
    "68": "Carteira inválida ou não cadastrada",
}

# --- CNAB 400 Bradesco (237) ----------------------------------------------------------------------
BRADESCO400: dict[str, tuple[Kind, str]] = {
    "02": (K.REGISTERED, "Entrada confirmada"),
    "03": (K.REJECTED, "Entrada rejeitada"),
    "06": (K.PAID, "Liquidação normal"),
    "09": (K.WRITTEN_OFF, "Baixado automaticamente via arquivo"),
    "10": (K.WRITTEN_OFF, "Baixado conforme instruções da agência"),
    "11": (K.INFO, "Título em ser"),
    "12": (K.INSTRUCTION_CONFIRMED, "Abatimento concedido"),
    "13": (K.INSTRUCTION_CONFIRMED, "Abatimento cancelado"),
    "14": (K.INSTRUCTION_CONFIRMED, "Vencimento alterado"),
    "15": (K.PAID, "Liquidação em cartório"),
    "16": (K.INFO, "Título pago em cheque (vinculado)"),
    "17": (K.PAID_AFTER_WRITE_OFF, "Liquidação após baixa ou de título não registrado"),
    "18": (K.INFO, "Acerto de depositária"),
    "19": (K.INSTRUCTION_CONFIRMED, "Confirmação de instrução de protesto"),
    "20": (K.INSTRUCTION_CONFIRMED, "Confirmação de instrução de sustação de protesto"),
    "21": (K.INFO, "Acerto do controle do participante"),
    "22": (K.INFO, "Título com pagamento cancelado"),
    "23": (K.INFO, "Entrada do título em cartório"),
    "24": (K.REJECTED, "Entrada rejeitada por CEP irregular"),
    "27": (K.INSTRUCTION_REJECTED, "Baixa rejeitada"),
    "28": (K.FEE, "Débito de tarifas/custas"),
    "29": (K.INFO, "Ocorrência do pagador"),
    "30": (K.INSTRUCTION_REJECTED, "Alteração de outros dados rejeitada"),
    "32": (K.INSTRUCTION_REJECTED, "Instrução rejeitada"),
    "33": (K.INSTRUCTION_CONFIRMED, "Confirmação de alteração de outros dados"),
    "34": (K.INFO, "Retirado de cartório e mantido em carteira"),
}

# Bradesco motivos (319-328) of rejections.
BRADESCO400_REASONS: dict[str, str] = {
    "02": "Código do registro detalhe inválido",
    "03": "Código da ocorrência inválido",
    "04": "Código de ocorrência não permitido para a carteira",
    "05": "Código de ocorrência não numérico",
    "07": "Agência/conta/dígito inválido",
    "08": "Nosso número inválido",
    "09": "Nosso número duplicado",
    "10": "Carteira inválida",
    "16": "Data de vencimento inválida",
    "18": "Vencimento fora do prazo de operação",
    "20": "Valor do título inválido",
    "21": "Espécie do título inválida",
    "22": "Espécie não permitida para a carteira",
    "24": "Data de emissão inválida",
    "38": "Prazo para protesto inválido",
    "45": "Nome do pagador não informado",
    "46": "Tipo/número de inscrição do pagador inválido (CPF/CNPJ)",
    "47": "Endereço do pagador não informado",
    "48": "CEP inválido",
    "63": "Entrada para título já cadastrado",
}

# --- CNAB 400 Santander (033) ---------------------------------------------------------------------
SANTANDER400: dict[str, tuple[Kind, str]] = {
    "02": (K.REGISTERED, "Entrada confirmada"),
    "03": (K.REJECTED, "Entrada rejeitada"),
    "06": (K.PAID, "Liquidação"),
    "07": (K.PAID, "Liquidação por conta"),
    "08": (K.PAID, "Liquidação por saldo"),
    "09": (K.WRITTEN_OFF, "Baixa automática"),
    "10": (K.WRITTEN_OFF, "Baixa conforme instrução"),
    "11": (K.INFO, "Título em ser"),
    "12": (K.INSTRUCTION_CONFIRMED, "Abatimento concedido"),
    "13": (K.INSTRUCTION_CONFIRMED, "Abatimento cancelado"),
    "14": (K.INSTRUCTION_CONFIRMED, "Prorrogação de vencimento"),
    "15": (K.INSTRUCTION_CONFIRMED, "Confirmação de protesto"),
    "16": (K.INFO, "Título já baixado/liquidado"),
    "17": (K.PAID, "Liquidado em cartório"),
    "21": (K.INFO, "Título enviado a cartório"),
    "22": (K.INFO, "Título retirado de cartório"),
    "24": (K.FEE, "Custas de cartório"),
}

# Santander 400 rejections: three 3-digit codes at 137-145 ("Layout CNAB 400 Santander", tabela
# de erros). The codes a portal's remessa can provoke; any other is named as uncatalogued.
SANTANDER400_REASONS: dict[str, str] = {
    "001": "Nosso número não numérico",
    "003": "Data de vencimento não numérica",
    "004": "Conta de cobrança não numérica",
    "005": "Código da carteira não numérico",
    "006": "Código da carteira inválido",
    "007": "Espécie do documento inválida",
    "013": "Valor do título não numérico",
    "014": "Valor de mora não numérico",
    "015": "Data de emissão não numérica",
    "016": "Data de vencimento inválida",
    "019": "CEP não numérico",
    "020": "Tipo de inscrição do pagador não numérico",
    "021": "CPF/CNPJ do pagador não numérico",
    "022": "Código de ocorrência inválido",
    "025": "Valor do desconto não numérico",
    "029": "Valor de mora inválido",
    "030": "Vencimento a menos de 15 dias da data de processamento",
    "041": "Agência cobradora não encontrada",
    "042": "Conta de cobrança inválida",
    "045": "Quantidade de dias para baixa não preenchida",
    "051": "Título não encontrado",
    "052": "Instrução não acatada: título liquidado",
    "053": "Instrução não acatada: título baixado",
    "057": "CEP do pagador incorreto",
    "058": "CPF/CNPJ do pagador incorreto",
    "063": "CEP não encontrado na tabela de praças",
    "068": "Tipo de vencimento inválido",
    "070": "Nova data de vencimento anterior à atual",
    "073": "Abatimento maior ou igual ao valor do título",
    "074": "Desconto maior ou igual ao valor do título",
    "089": "Data da multa igual ou anterior ao vencimento",
    "092": "Nosso número já cadastrado",
    "093": "Valor do título não informado",
    "095": "Valor do título zerado não aceito",
    "098": "Data de emissão inválida",
    "099": "Registro duplicado no movimento do dia",
    "100": "Data de emissão posterior ao vencimento",
    "101": "Nome do pagador não informado",
    "102": "Endereço do pagador não informado",
    "103": "Município do pagador não informado",
    "104": "UF do pagador não informada",
    "105": "Tipo de inscrição do pagador inexistente",
    "106": "CPF/CNPJ do pagador não informado",
    "107": "UF do pagador incorreta",
    "108": "Dígito do CPF/CNPJ do pagador incorreto",
    "116": "Data da multa não numérica",
    "119": "Data da multa posterior ao vencimento",
    "120": "Percentual de multa não numérico",
    "121": "Percentual de multa não informado",
    "123": "CEP do pagador não numérico",
    "124": "CEP do pagador não encontrado",
    "126": "Código para baixa/devolução inválido",
    "135": "Código de movimento da remessa inválido",
    "149": "Código de mora inválido",
    "156": "Quantidade de dias para baixa/devolução não numérica",
    "157": "Quantidade de dias para baixa/devolução inválida",
    "160": "Bairro do pagador não informado",
}

# Remessa 400 movement codes share the C004 core (01 entrada, 02 baixa, 06 vencimento...).
REMESSA_MOVEMENTS = C004

GENERIC_REASON = Reason("", "Motivo não informado pelo banco")


def uncatalogued(code: str) -> Reason:
    return Reason(code, f"Motivo {code} (código não catalogado pelo banco)")


def occurrence(table: dict[str, tuple[Kind, str]], code: str) -> tuple[Kind, str]:
    """(kind, label) of a code; a code the table does not know is UNKNOWN, never paid."""
    found = table.get(code)
    if found is None:
        return Kind.UNKNOWN, f"Ocorrência {code.strip() or '(em branco)'} não catalogada"
    return found


def reasons_from_codes(codes: list[str], texts: dict[str, str], kind: Kind) -> list[Reason]:
    """Reasons for the codes the file gives ("00", blanks and zeros ignored); a rejection with
    no code gets one generic reason."""
    reasons = []
    for code in codes:
        if not code.strip(" 0"):
            continue
        text = texts.get(code)
        reasons.append(Reason(code, text) if text else uncatalogued(code))
    if not reasons and kind in REJECTION_KINDS:
        reasons.append(GENERIC_REASON)
    return reasons


# Which reason table explains a CNAB 240 occurrence's motivos (T 214-223).
C047_FOR_OCCURRENCE: dict[str, dict[str, str]] = {
    "02": C047_REJECTION,
    "03": C047_REJECTION,
    "26": C047_REJECTION,
    "30": C047_REJECTION,
    "09": C047_WRITE_OFF,
    "28": C047_FEE,
}
